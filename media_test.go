package wasend_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/wasendtest"
)

// mediaFiles writes the fidelity set of files into a new directory: a
// JPEG, a PNG, a PDF, a document with a non-ASCII name, a text file, and
// a PDF named as a JPEG.
func mediaFiles(t *testing.T) map[string]string {
	t.Helper()
	dir := t.TempDir()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	img.Set(1, 1, color.RGBA{R: 200, A: 255})
	var jb, pb bytes.Buffer
	require.NoError(t, jpeg.Encode(&jb, img, nil))
	require.NoError(t, png.Encode(&pb, img))
	pdf := []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
	files := map[string][]byte{
		"photo.jpg":            jb.Bytes(),
		"chart.png":            pb.Bytes(),
		"invoice.pdf":          pdf,
		"Facture été 2026.pdf": pdf,
		"notes.txt":            []byte("plain notes\n"),
		"fake.jpg":             pdf,
	}
	out := map[string]string{}
	for name, b := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, b, 0o600))
		out[name] = p
	}
	return out
}

func sumOf(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// Send with Attach checks the file before it records anything: each bad
// file is a *ValidationError on "media" wrapping its sentinel, and no job
// is written.
func TestMediaIsValidatedBeforeAnythingIsWritten(t *testing.T) {
	h := newHarness(t, harnessOpt{noRun: true})
	bc, err := h.client.CreateContext(bg)
	require.NoError(t, err)
	files := mediaFiles(t)
	dir := t.TempDir()
	big := filepath.Join(dir, "big.jpg")
	f, err := os.Create(big)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(wasend.MaxImageSize+1)) // sparse: no 16 MB written
	require.NoError(t, f.Close())
	bigDoc := filepath.Join(dir, "big.pdf")
	f, err = os.Create(bigDoc)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(wasend.MaxDocumentSize+1))
	require.NoError(t, f.Close())
	empty := filepath.Join(dir, "empty.pdf")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))

	for _, tt := range []struct {
		name    string
		media   wasend.Media
		caption string
		want    error
	}{
		{"no such file", wasend.Media{Kind: wasend.MediaDocument, Path: filepath.Join(dir, "nope.pdf")}, "", wasend.ErrInvalidMedia},
		{"no path", wasend.Media{Kind: wasend.MediaDocument}, "", wasend.ErrInvalidMedia},
		{"a directory", wasend.Media{Kind: wasend.MediaDocument, Path: dir}, "", wasend.ErrInvalidMedia},
		{"an empty file", wasend.Media{Kind: wasend.MediaDocument, Path: empty}, "", wasend.ErrInvalidMedia},
		{"unknown kind", wasend.Media{Kind: "video", Path: files["photo.jpg"]}, "", wasend.ErrInvalidMedia},
		{"no kind", wasend.Media{Path: files["photo.jpg"]}, "", wasend.ErrInvalidMedia},
		{"a PDF named as a JPEG, sent as an image", wasend.Media{Kind: wasend.MediaImage, Path: files["fake.jpg"]}, "", wasend.ErrInvalidMedia},
		{"a text file as an image", wasend.Media{Kind: wasend.MediaImage, Path: files["notes.txt"]}, "", wasend.ErrInvalidMedia},
		{"an image whose type lies", wasend.Media{Kind: wasend.MediaImage, Path: files["photo.jpg"], Type: "image/png"}, "", wasend.ErrInvalidMedia},
		{"a malformed type", wasend.Media{Kind: wasend.MediaDocument, Path: files["invoice.pdf"], Type: "pdf"}, "", wasend.ErrInvalidMedia},
		{"a name with a slash", wasend.Media{Kind: wasend.MediaDocument, Path: files["invoice.pdf"], Name: "../etc/passwd"}, "", wasend.ErrInvalidMedia},
		{"a name too long", wasend.Media{Kind: wasend.MediaDocument, Path: files["invoice.pdf"], Name: stringOf('x', wasend.MaxMediaNameLength+1)}, "", wasend.ErrInvalidMedia},
		{"an image over the limit", wasend.Media{Kind: wasend.MediaImage, Path: big}, "", wasend.ErrMediaTooLarge},
		{"a document over the limit", wasend.Media{Kind: wasend.MediaDocument, Path: bigDoc}, "", wasend.ErrMediaTooLarge},
		{"a caption too long", wasend.Media{Kind: wasend.MediaImage, Path: files["photo.jpg"]}, stringOf('é', wasend.MaxCaptionLength+1), wasend.ErrTextTooLong},
		{"a caption not UTF-8", wasend.Media{Kind: wasend.MediaImage, Path: files["photo.jpg"]}, "bad \xff", wasend.ErrInvalidText},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := h.client.Send(bg, bc.ID, "+5491122334455", tt.caption, wasend.Attach(tt.media))
			require.ErrorIs(t, err, tt.want)
			var ve *wasend.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, "media", ve.Field)
			assert.False(t, wasend.Retryable(err))

			_, err = h.client.SendBulk(bg, bc.ID, []wasend.BulkMessage{
				{To: "+5491122334455", Text: "fine"},
				{To: "+5491122334456", Text: tt.caption, Media: &tt.media},
			})
			require.ErrorIs(t, err, tt.want)
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, 1, ve.Index)
			assert.Equal(t, "media", ve.Field)
		})
	}
	jobs, err := h.store.Jobs(bg, wasend.JobFilter{})
	require.NoError(t, err)
	assert.Empty(t, jobs, "nothing was recorded")

	_, err = h.client.SendBulk(bg, bc.ID, []wasend.BulkMessage{{To: "+5491122334455", Text: "x"}},
		wasend.Attach(wasend.Media{Kind: wasend.MediaImage, Path: files["photo.jpg"]}))
	require.ErrorIs(t, err, wasend.ErrInvalidOption, "Attach is for Send")
}

// The fidelity set goes out once each, and the store keeps the reference,
// size and checksum of each file, never its bytes; the session sends the
// bytes that were recorded.
func TestMediaFidelity(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	bc, sess := h.newContext()
	files := mediaFiles(t)
	const to = "+5491122334455"
	caption := "Your invoice 🧾\nThanks!\n\n— Ünïcode"
	for _, tt := range []struct {
		file     string
		kind     wasend.MediaKind
		caption  string
		wantType string
	}{
		{"photo.jpg", wasend.MediaImage, caption, "image/jpeg"},
		{"chart.png", wasend.MediaImage, "", "image/png"},
		{"invoice.pdf", wasend.MediaDocument, "", "application/pdf"},
		{"Facture été 2026.pdf", wasend.MediaDocument, caption, "application/pdf"},
		{"notes.txt", wasend.MediaDocument, "notes", "text/plain"},
	} {
		t.Run(tt.file, func(t *testing.T) {
			job, err := h.client.Send(bg, bc.ID, to, tt.caption, wasend.Attach(wasend.Media{Kind: tt.kind, Path: files[tt.file]}))
			require.NoError(t, err)
			got := h.waitJob(job.ID, wasend.JobCompleted)
			m := got.Messages[0]
			require.NotNil(t, m.Media)
			assert.Equal(t, wasend.MessageSent, m.Status)
			assert.Equal(t, tt.file, m.Media.Name)
			assert.Equal(t, tt.wantType, m.Media.Type)
			assert.Equal(t, files[tt.file], m.Media.Path)
			assert.Equal(t, sumOf(t, files[tt.file]), m.Media.SHA256)
			st, err := os.Stat(files[tt.file])
			require.NoError(t, err)
			assert.Equal(t, st.Size(), m.Media.Size)
			assert.Equal(t, tt.caption, m.Text)
			assert.Equal(t, 1, sess.CountMedia(to, tt.file), "sent once")
			var sent *wasendtest.Sent
			for _, s := range sess.Sent() {
				if s.ID == m.WAMessageID {
					sent = &s
				}
			}
			require.NotNil(t, sent)
			require.NotNil(t, sent.Media)
			assert.Equal(t, tt.kind, sent.Media.Kind)
			assert.Equal(t, tt.caption, sent.Text)
			assert.Equal(t, tt.caption, sent.Media.Caption)
			assert.Equal(t, m.Media.SHA256, sent.MediaSHA256, "the bytes sent are the bytes recorded")
		})
	}
	assert.NotContains(t, h.logs.String(), "Thanks", "no caption in the logs")
	assert.NotContains(t, h.logs.String(), "1122334455", "no whole number in the logs")
}

// A bulk job mixes texts and files; one file attached to many messages
// keeps one checksum; each message keeps its own copy of the reference.
func TestMediaBulk(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	bc, sess := h.newContext()
	files := mediaFiles(t)
	doc := &wasend.Media{Kind: wasend.MediaDocument, Path: files["invoice.pdf"], Name: "Invoice.pdf"}
	job, err := h.client.SendBulk(bg, bc.ID, []wasend.BulkMessage{
		{To: "+5491122334401", Text: "hello"},
		{To: "+5491122334402", Media: doc},
		{To: "+5491122334403", Text: "your invoice", Media: doc},
	})
	require.NoError(t, err)
	got := h.waitJob(job.ID, wasend.JobCompleted)
	require.Len(t, got.Messages, 3)
	assert.Nil(t, got.Messages[0].Media)
	for _, m := range got.Messages {
		assert.Equal(t, wasend.MessageSent, m.Status)
	}
	require.NotNil(t, got.Messages[1].Media)
	assert.Equal(t, *got.Messages[1].Media, *got.Messages[2].Media)
	assert.Equal(t, "Invoice.pdf", got.Messages[1].Media.Name)
	assert.Equal(t, 1, sess.CountMedia("+5491122334402", "Invoice.pdf"))
	assert.Equal(t, 1, sess.CountMedia("+5491122334403", "Invoice.pdf"))
	assert.Equal(t, 1, sess.Count("+5491122334401", "hello"))
}

// A file that changes or goes after its message was recorded fails the
// message for good (ErrMediaChanged), with no attempt; nothing is sent.
func TestMediaChangedAfterRecording(t *testing.T) {
	for _, tt := range []struct {
		name   string
		change func(t *testing.T, path string)
	}{
		{"rewritten", func(t *testing.T, path string) {
			require.NoError(t, os.WriteFile(path, []byte("%PDF-1.4 another document\n"), 0o600))
		}},
		{"same size, other bytes", func(t *testing.T, path string) {
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			b[len(b)-2] ^= 0xff
			require.NoError(t, os.WriteFile(path, b, 0o600))
		}},
		{"removed", func(t *testing.T, path string) { require.NoError(t, os.Remove(path)) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, harnessOpt{noRun: true})
			bc, err := h.client.CreateContext(bg)
			require.NoError(t, err)
			files := mediaFiles(t)
			const to = "+5491122334455"
			job, err := h.client.Send(bg, bc.ID, to, "", wasend.Attach(wasend.Media{Kind: wasend.MediaDocument, Path: files["invoice.pdf"]}))
			require.NoError(t, err)
			bulk, err := h.client.SendBulk(bg, bc.ID, []wasend.BulkMessage{
				{To: "+5491122334401", Media: &wasend.Media{Kind: wasend.MediaDocument, Path: files["invoice.pdf"]}},
				{To: "+5491122334402", Text: "still sent"},
			})
			require.NoError(t, err)
			tt.change(t, files["invoice.pdf"])
			h.run()
			sess := h.pool.Session(bc.SystemID)
			got := h.waitJob(job.ID, wasend.JobFailed)
			assert.Equal(t, wasend.ErrorKindMediaChanged, got.Messages[0].ErrorKind)
			assert.Equal(t, wasend.MessageFailed, got.Messages[0].Status)
			assert.Zero(t, got.Messages[0].Attempts, "no attempt")
			gb := h.waitJob(bulk.ID, wasend.JobCompleted)
			assert.Equal(t, wasend.MessageFailed, gb.Messages[0].Status)
			assert.Equal(t, wasend.ErrorKindMediaChanged, gb.Messages[0].ErrorKind)
			assert.Equal(t, wasend.MessageSent, gb.Messages[1].Status)
			require.NotNil(t, sess)
			assert.Zero(t, sess.CountMedia(to, "invoice.pdf"))
			assert.Zero(t, sess.CountMedia("+5491122334401", "invoice.pdf"))
		})
	}
}

// A session that cannot send files fails a media message for good with
// ErrNotSupported; the texts of the same job go on.
func TestMediaSessionNotAMediaSender(t *testing.T) {
	h := newHarness(t, harnessOpt{pool: []wasendtest.Option{wasendtest.WithLegacySessions()}})
	bc, sess := h.newContext()
	files := mediaFiles(t)
	job, err := h.client.Send(bg, bc.ID, "+5491122334455", "look", wasend.Attach(wasend.Media{Kind: wasend.MediaImage, Path: files["photo.jpg"]}))
	require.NoError(t, err)
	got := h.waitJob(job.ID, wasend.JobFailed)
	assert.Equal(t, wasend.ErrorKindNotSupported, got.Messages[0].ErrorKind)
	assert.Zero(t, got.Messages[0].Attempts)
	bulk, err := h.client.SendBulk(bg, bc.ID, []wasend.BulkMessage{
		{To: "+5491122334401", Text: "pic", Media: &wasend.Media{Kind: wasend.MediaImage, Path: files["photo.jpg"]}},
		{To: "+5491122334402", Text: "text"},
	})
	require.NoError(t, err)
	gb := h.waitJob(bulk.ID, wasend.JobCompleted)
	assert.Equal(t, wasend.ErrorKindNotSupported, gb.Messages[0].ErrorKind)
	assert.Equal(t, wasend.MessageSent, gb.Messages[1].Status)
	assert.Equal(t, 1, sess.Count("+5491122334402", "text"))
	assert.Zero(t, sess.Count("+5491122334401", "pic"))
}

// An attempt that delivers a file and loses its confirmation leaves the
// message unconfirmed; the lookup asks for the attachment (SentQuery.Media)
// and finds it: the file goes out once. With two files to one number
// with the same caption, the lookup for the one that did not go finds
// nothing and sends it.
func TestMediaExactlyOnce(t *testing.T) {
	for _, marks := range []bool{true, false} {
		t.Run(map[bool]string{true: "marks", false: "no marks"}[marks], func(t *testing.T) {
			h := newHarness(t, harnessOpt{})
			bc, sess := h.newContext()
			sess.SetMarks(marks)
			files := mediaFiles(t)
			const to = "+5491122334455"
			sess.Script(wasendtest.Action{Deliver: true, Err: wasend.Unconfirmed(wasend.ErrTimeout)})
			job, err := h.client.Send(bg, bc.ID, to, "same", wasend.Attach(wasend.Media{Kind: wasend.MediaImage, Path: files["photo.jpg"]}))
			require.NoError(t, err)
			got := h.waitJob(job.ID, wasend.JobCompleted)
			assert.Equal(t, wasend.MessageSent, got.Messages[0].Status)
			assert.Equal(t, 1, sess.CountMedia(to, "photo.jpg"), "sent once")
			qs := sess.Queries()
			require.NotEmpty(t, qs, "the guard looked")
			require.NotNil(t, qs[0].Media)
			assert.Equal(t, "photo.jpg", qs[0].Media.Name)
			assert.Equal(t, wasend.MediaImage, qs[0].Media.Kind)
			assert.Equal(t, "same", qs[0].Text)

			// A second file with the same caption whose first click is
			// lost: the photo in the chat is not it.
			sess.Script(wasendtest.Action{Lost: true, Err: wasend.Unconfirmed(wasend.ErrTimeout)})
			job, err = h.client.Send(bg, bc.ID, to, "same", wasend.Attach(wasend.Media{Kind: wasend.MediaImage, Path: files["chart.png"]}))
			require.NoError(t, err)
			got = h.waitJob(job.ID, wasend.JobCompleted)
			assert.Equal(t, wasend.MessageSent, got.Messages[0].Status)
			assert.Equal(t, 1, sess.CountMedia(to, "chart.png"))
			assert.Equal(t, 1, sess.CountMedia(to, "photo.jpg"))
		})
	}
}

// An idempotency key names one request: the same key with another file
// is a conflict.
func TestMediaIdempotency(t *testing.T) {
	h := newHarness(t, harnessOpt{noRun: true})
	bc, err := h.client.CreateContext(bg)
	require.NoError(t, err)
	files := mediaFiles(t)
	a := wasend.Attach(wasend.Media{Kind: wasend.MediaImage, Path: files["photo.jpg"]})
	first, err := h.client.Send(bg, bc.ID, "+5491122334455", "", a, wasend.IdempotencyKey("k"))
	require.NoError(t, err)
	again, err := h.client.Send(bg, bc.ID, "+5491122334455", "", a, wasend.IdempotencyKey("k"))
	require.NoError(t, err)
	assert.Equal(t, first.ID, again.ID)
	_, err = h.client.Send(bg, bc.ID, "+5491122334455", "", wasend.Attach(wasend.Media{Kind: wasend.MediaImage, Path: files["chart.png"]}),
		wasend.IdempotencyKey("k"))
	require.ErrorIs(t, err, wasend.ErrIdempotencyConflict)
	_, err = h.client.Send(bg, bc.ID, "+5491122334455", "", wasend.IdempotencyKey("k2"))
	require.ErrorIs(t, err, wasend.ErrEmptyText, "without a file, the text is required")
}
