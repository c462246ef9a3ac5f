package wasend

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"
)

// MaxMediaNameLength is the longest file name (Media.Name) the Client
// accepts, in bytes: what file systems and WhatsApp's document card take.
const MaxMediaNameLength = 255

// checkMedia validates a message's file before the message is recorded,
// and returns the Media to store: Path made absolute, and Name, Type,
// Size and SHA256 filled in from the file. caption is the message's text,
// which may be empty. The errors wrap ErrInvalidMedia (no such file, not a
// regular file, empty, an unknown kind, a type that does not fit the
// kind, a bad name), ErrMediaTooLarge, or for a bad caption ErrInvalidText
// or ErrTextTooLong.
func checkMedia(m Media, caption string) (Media, error) {
	if err := checkCaption(caption); err != nil {
		return Media{}, err
	}
	limit := int64(0)
	switch m.Kind {
	case MediaImage:
		limit = MaxImageSize
	case MediaDocument:
		limit = MaxDocumentSize
	default:
		return Media{}, fmt.Errorf("%w: kind %q (want %q or %q)", ErrInvalidMedia, m.Kind, MediaImage, MediaDocument)
	}
	if m.Path == "" {
		return Media{}, fmt.Errorf("%w: no path", ErrInvalidMedia)
	}
	path, err := filepath.Abs(m.Path)
	if err != nil {
		return Media{}, fmt.Errorf("%w: path: %v", ErrInvalidMedia, err)
	}
	m.Path = path
	if m.Name == "" {
		m.Name = filepath.Base(path)
	}
	if err := checkMediaName(m.Name); err != nil {
		return Media{}, err
	}
	f, err := os.Open(path)
	if err != nil {
		return Media{}, fmt.Errorf("%w: %v", ErrInvalidMedia, err)
	}
	defer f.Close()
	st, err := f.Stat()
	switch {
	case err != nil:
		return Media{}, fmt.Errorf("%w: %v", ErrInvalidMedia, err)
	case !st.Mode().IsRegular():
		return Media{}, fmt.Errorf("%w: %s is not a regular file", ErrInvalidMedia, m.Name)
	case st.Size() == 0:
		return Media{}, fmt.Errorf("%w: %s is empty", ErrInvalidMedia, m.Name)
	case st.Size() > limit:
		return Media{}, fmt.Errorf("%w: %s has %d bytes, over the %d of a %s", ErrMediaTooLarge, m.Name, st.Size(), limit, m.Kind)
	}
	sum, head, n, err := digest(f)
	if err != nil {
		return Media{}, fmt.Errorf("%w: reading %s: %v", ErrInvalidMedia, m.Name, err)
	}
	if n != st.Size() {
		return Media{}, fmt.Errorf("%w: %s changed while it was read", ErrInvalidMedia, m.Name)
	}
	sniffed := baseType(http.DetectContentType(head))
	if m.Type == "" {
		m.Type = sniffed
		if generic(sniffed) {
			if t := baseType(mime.TypeByExtension(filepath.Ext(m.Name))); t != "" {
				m.Type = t
			}
		}
	} else {
		t, _, err := mime.ParseMediaType(m.Type)
		if err != nil || !strings.Contains(t, "/") {
			return Media{}, fmt.Errorf("%w: type %q", ErrInvalidMedia, m.Type)
		}
		m.Type = t
	}
	if m.Kind == MediaImage {
		// An image must be one in its bytes, not only in its name: the
		// page would send anything else as a broken picture.
		if !slices.Contains(ImageTypes, sniffed) {
			return Media{}, fmt.Errorf("%w: %s is %s, not an image of %v (send it as a document)", ErrInvalidMedia, m.Name, sniffed, ImageTypes)
		}
		if m.Type != sniffed {
			return Media{}, fmt.Errorf("%w: %s is %s, not the %s it says", ErrInvalidMedia, m.Name, sniffed, m.Type)
		}
	}
	m.Size, m.SHA256 = st.Size(), sum
	return m, nil
}

// checkCaption validates a media message's caption: it may be empty.
func checkCaption(caption string) error {
	if !utf8.ValidString(caption) || strings.IndexByte(caption, 0) >= 0 {
		return ErrInvalidText
	}
	if n := utf8.RuneCountInString(caption); n > MaxCaptionLength {
		return fmt.Errorf("%w: a caption of %d characters, over %d", ErrTextTooLong, n, MaxCaptionLength)
	}
	return nil
}

// checkMediaName validates the file name a recipient sees.
func checkMediaName(name string) error {
	switch {
	case !utf8.ValidString(name) || strings.ContainsAny(name, "/\\\x00"):
		return fmt.Errorf("%w: file name %q", ErrInvalidMedia, name)
	case strings.TrimSpace(name) == "" || name == "." || name == "..":
		return fmt.Errorf("%w: empty file name", ErrInvalidMedia)
	case len(name) > MaxMediaNameLength:
		return fmt.Errorf("%w: a file name of %d bytes, over %d", ErrInvalidMedia, len(name), MaxMediaNameLength)
	}
	return nil
}

// verifyMedia checks, just before a send, that a recorded message's file
// is still the one recorded: same size and checksum. A file that changed,
// went or cannot be read gives an error wrapping ErrMediaChanged: the
// message is never sent with other content.
func verifyMedia(m *Media) error {
	f, err := os.Open(m.Path)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrMediaChanged, m.Name, err)
	}
	defer f.Close()
	sum, _, n, err := digest(f)
	switch {
	case err != nil:
		return fmt.Errorf("%w: reading %s: %v", ErrMediaChanged, m.Name, err)
	case n != m.Size || sum != m.SHA256:
		return fmt.Errorf("%w: %s has %d bytes and another checksum than the %d recorded", ErrMediaChanged, m.Name, n, m.Size)
	}
	return nil
}

// mediaFile is what a session attaches for a media message.
func mediaFile(m Message) *MediaFile {
	if m.Media == nil {
		return nil
	}
	return &MediaFile{Kind: m.Media.Kind, Path: m.Media.Path, Name: m.Media.Name, Type: m.Media.Type,
		Size: m.Media.Size, Caption: m.Text}
}

// sameMedia reports whether two messages attach the same file.
func sameMedia(a, b *Media) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Kind == b.Kind && a.Path == b.Path && a.Name == b.Name && a.Type == b.Type && a.SHA256 == b.SHA256
}

// contentKey is what pacing counts as one text (SameTextPerWindow): the
// text, and a media message's file.
func contentKey(m Message) string {
	if m.Media == nil {
		return m.Text
	}
	return m.Text + "\x00" + m.Media.SHA256
}

// digest reads r to its end and returns its SHA-256 (hex), its first 512
// bytes (for http.DetectContentType) and its length.
func digest(r io.Reader) (sum string, head []byte, n int64, err error) {
	h := sha256.New()
	hw := &headWriter{h: h}
	n, err = io.Copy(hw, r)
	if err != nil {
		return "", nil, n, err
	}
	return hex.EncodeToString(h.Sum(nil)), hw.head, n, nil
}

// headWriter hashes what it is written, and keeps its first 512 bytes.
type headWriter struct {
	h    hash.Hash
	head []byte
}

func (w *headWriter) Write(p []byte) (int, error) {
	if k := 512 - len(w.head); k > 0 {
		w.head = append(w.head, p[:min(k, len(p))]...)
	}
	return w.h.Write(p)
}

// baseType is a MIME type without its parameters ("text/plain" of
// "text/plain; charset=utf-8"), or "".
func baseType(t string) string {
	mt, _, err := mime.ParseMediaType(t)
	if err != nil {
		return ""
	}
	return mt
}

// generic reports whether a sniffed type says little: the file's name is
// then a better guide.
func generic(t string) bool {
	return t == "application/octet-stream" || t == "text/plain" || t == "application/zip"
}
