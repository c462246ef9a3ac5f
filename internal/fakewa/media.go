package fakewa

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"mime"
	"net/http"
	"path"
	"strings"
	"unicode/utf8"
)

// This file holds the attachments of whatsapp-web.md §5: the page reads
// the chosen File and POSTs its bytes to /__wa/media, with the file name,
// type and caption in the query (percent-encoded UTF-8, so that they
// arrive byte for byte; a multipart form would turn "\n" into "\r\n").

// maxFileNameBytes bounds the name of an attached file.
const maxFileNameBytes = 1024

var errTooLarge = errors.New("fakewa: file too large")

// upload is an attachment that a page sent.
type upload struct {
	media Media
	data  []byte
}

// limit returns the largest attachment of kind k that the server accepts.
func (s *Server) limit(k MediaKind) int64 {
	if k == MediaDocument {
		return s.cfg.documentLimit
	}
	return s.cfg.imageLimit
}

// handleMedia takes an attachment: POST /__wa/media?cid=&to=&kind=&name=
// &mime=&caption=&ck= with the file's bytes as the body.
func (s *Server) handleMedia(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	c := s.pageClient(w, q.Get("cid"))
	if c == nil {
		return
	}
	to, kind, name, caption := q.Get("to"), MediaKind(q.Get("kind")), q.Get("name"), q.Get("caption")
	switch {
	case !validPhone(to):
		writeError(w, http.StatusBadRequest, ErrInvalidPhone)
		return
	case kind != MediaImage && kind != MediaVideo && kind != MediaDocument:
		writeError(w, http.StatusBadRequest, errors.New("fakewa: unknown media kind"))
		return
	case name == "" || len(name) > maxFileNameBytes || !utf8.ValidString(name) || strings.ContainsAny(name, "/\x00"):
		writeError(w, http.StatusBadRequest, errors.New("fakewa: bad file name"))
		return
	case !utf8.ValidString(caption) || utf8.RuneCountInString(caption) > maxMessageRunes:
		writeError(w, http.StatusBadRequest, errors.New("fakewa: bad caption"))
		return
	}
	s.mu.Lock()
	ok := mayUseLocked(c)
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusConflict, errNotLoggedIn)
		return
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.limit(kind)))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		writeError(w, http.StatusRequestEntityTooLarge, errTooLarge)
		return
	case err != nil:
		writeError(w, http.StatusBadRequest, err)
		return
	case len(data) == 0:
		writeError(w, http.StatusBadRequest, errors.New("fakewa: empty file"))
		return
	}
	typ := q.Get("mime")
	if _, _, err := mime.ParseMediaType(typ); err != nil {
		typ = mime.TypeByExtension(path.Ext(name))
	}
	if typ == "" {
		typ = "application/octet-stream"
	}
	sum := sha256.Sum256(data)
	up := &upload{
		media: Media{Kind: kind, FileName: name, MIMEType: typ, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:])},
		data:  data,
	}
	s.finishSend(w, r, c, to, caption, q.Get("ck"), up)
}

// handleMediaGet serves the bytes of an image that a page of the account
// sent, for its thumbnail: GET /__wa/media?cid=&id=.
func (s *Server) handleMediaGet(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	c, phone := s.loggedIn(w, q.Get("cid"))
	if c == nil {
		return
	}
	s.mu.Lock()
	m := s.msgs[q.Get("id")]
	var data []byte
	var typ string
	if m != nil && m.data != nil && (m.From == phone || m.To == phone) {
		data, typ = m.data, m.Media.MIMEType
	}
	s.mu.Unlock()
	if data == nil {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", typ)
	h.Set("Cache-Control", "private, max-age=3600")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox")
	_, _ = w.Write(data)
}
