package chromedpdriver

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/internal/fakewa"
)

// testImage returns an image of w×h pixels with noise, so that its JPEG
// is about as large as its size says.
func testImage(w, h int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	seed := uint32(7)
	for y := range h {
		for x := range w {
			seed = seed*1664525 + 1013904223
			img.Set(x, y, color.RGBA{uint8(seed >> 24), uint8(seed >> 16), uint8(x * y), 255})
		}
	}
	return img
}

// writeFile writes b to dir/name and returns the path.
func writeFile(t testing.TB, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, b, 0o600))
	return p
}

func encodeJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}))
	return b.Bytes()
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, png.Encode(&b, img))
	return b.Bytes()
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestCheckMedia(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	jpg := writeFile(t, dir, "photo.jpg", encodeJPEG(t, testImage(8, 8)))
	pdf := writeFile(t, dir, "doc.pdf", []byte("%PDF-1.4\n"))
	empty := writeFile(t, dir, "empty.pdf", nil)
	big := filepath.Join(dir, "big.jpg")
	f, err := os.Create(big)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(wasend.MaxImageSize+1))
	require.NoError(t, f.Close())
	st, err := os.Stat(jpg)
	require.NoError(t, err)

	name, err := checkMedia(wasend.MediaFile{Kind: wasend.MediaImage, Path: jpg, Size: st.Size(), Caption: "hi"})
	require.NoError(t, err)
	assert.Equal(t, "photo.jpg", name)
	name, err = checkMedia(wasend.MediaFile{Kind: wasend.MediaDocument, Path: pdf, Name: "Отчёт «2026».pdf"})
	require.NoError(t, err)
	assert.Equal(t, "Отчёт «2026».pdf", name)
	name, err = checkMedia(wasend.MediaFile{Kind: wasend.MediaImage, Path: pdf, Name: "picture", Type: "image/png"})
	require.NoError(t, err, "the type decides, not the name")
	assert.Equal(t, "picture", name)

	for _, c := range []struct {
		name string
		m    wasend.MediaFile
		want error
	}{
		{"kind", wasend.MediaFile{Kind: "video", Path: jpg}, wasend.ErrInvalidMedia},
		{"no path", wasend.MediaFile{Kind: wasend.MediaImage}, wasend.ErrInvalidMedia},
		{"no file", wasend.MediaFile{Kind: wasend.MediaImage, Path: filepath.Join(dir, "nope.jpg")}, wasend.ErrInvalidMedia},
		{"a folder", wasend.MediaFile{Kind: wasend.MediaDocument, Path: dir}, wasend.ErrInvalidMedia},
		{"empty", wasend.MediaFile{Kind: wasend.MediaDocument, Path: empty}, wasend.ErrInvalidMedia},
		{"changed", wasend.MediaFile{Kind: wasend.MediaImage, Path: jpg, Size: st.Size() + 1}, wasend.ErrMediaChanged},
		{"too large", wasend.MediaFile{Kind: wasend.MediaImage, Path: big}, wasend.ErrMediaTooLarge},
		{"not an image type", wasend.MediaFile{Kind: wasend.MediaImage, Path: pdf}, wasend.ErrInvalidMedia},
		{"image type given", wasend.MediaFile{Kind: wasend.MediaImage, Path: jpg, Type: "application/pdf"}, wasend.ErrInvalidMedia},
		{"caption", wasend.MediaFile{Kind: wasend.MediaImage, Path: jpg, Caption: strings.Repeat("é", wasend.MaxCaptionLength+1)}, wasend.ErrTextTooLong},
		{"name", wasend.MediaFile{Kind: wasend.MediaDocument, Path: pdf, Name: "a/b.pdf"}, wasend.ErrInvalidMedia},
	} {
		_, err := checkMedia(c.m)
		assert.ErrorIs(t, err, c.want, c.name)
	}

	// The page names the file after its path: another name gets a link.
	p, done, err := uploadPath(wasend.MediaFile{Kind: wasend.MediaDocument, Path: pdf}, "doc.pdf")
	require.NoError(t, err)
	assert.Equal(t, pdf, p)
	done()
	p, done, err = uploadPath(wasend.MediaFile{Kind: wasend.MediaDocument, Path: pdf}, "Отчёт «2026».pdf")
	require.NoError(t, err)
	assert.Equal(t, "Отчёт «2026».pdf", filepath.Base(p))
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, "%PDF-1.4\n", string(b))
	done()
	_, err = os.Stat(p)
	assert.True(t, os.IsNotExist(err), "done removes it")
	p, done, err = uploadPath(wasend.MediaFile{Kind: wasend.MediaImage, Path: pdf, Type: "image/png"}, "picture")
	require.NoError(t, err)
	assert.Equal(t, "picture.png", filepath.Base(p), "an image's name gets its type's extension")
	done()

	assert.Equal(t, "\x00media\x00image\x00a\nb\x00", mediaKey(wasend.MediaImage, "a\r\nb", "x.jpg"), "an image shows no name")
	assert.Equal(t, "\x00media\x00document\x00\x00x.pdf", mediaKey(wasend.MediaDocument, "", "x.pdf"))
}

// TestSendMedia sends a JPEG, a PNG, a PDF and a document with a
// non-ASCII name, with captions of emoji and new lines, through the
// attach menu in both markups of the imitation, and checks them byte for
// byte on its oracle; finds them again; and gets a typed refusal for a
// file over the page's limit.
func TestSendMedia(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	jpgBytes := encodeJPEG(t, testImage(64, 48))
	pngBytes := encodePNG(t, testImage(32, 32))
	pdfBytes := bytes.Repeat([]byte("%PDF-1.7 wasend\n"), 300)
	files := []struct {
		name    string
		m       wasend.MediaFile
		bytes   []byte
		mime    string
		shown   string // the file name the recipient sees
		kind    fakewa.MediaKind
		caption string
	}{
		{name: "jpeg with caption", bytes: jpgBytes, mime: "image/jpeg", kind: fakewa.MediaImage, shown: "photo.jpg",
			m: wasend.MediaFile{Kind: wasend.MediaImage, Path: writeFile(t, dir, "photo.jpg", jpgBytes), Caption: "Family 👨‍👩‍👧‍👦 photo\nsecond line ✓\n\nfourth"}},
		{name: "png without caption", bytes: pngBytes, mime: "image/png", kind: fakewa.MediaImage, shown: "grid.png",
			m: wasend.MediaFile{Kind: wasend.MediaImage, Path: writeFile(t, dir, "grid.png", pngBytes)}},
		{name: "pdf", bytes: pdfBytes, mime: "application/pdf", kind: fakewa.MediaDocument, shown: "invoice-2026.pdf",
			m: wasend.MediaFile{Kind: wasend.MediaDocument, Path: writeFile(t, dir, "invoice-2026.pdf", pdfBytes), Caption: "Your invoice 🧾"}},
		{name: "non-ASCII name", bytes: pdfBytes, mime: "application/pdf", kind: fakewa.MediaDocument, shown: "Отчёт «2026» 📄 Grüße.pdf",
			m: wasend.MediaFile{Kind: wasend.MediaDocument, Path: filepath.Join(dir, "invoice-2026.pdf"), Name: "Отчёт «2026» 📄 Grüße.pdf"}},
	}
	for i, markup := range []fakewa.Markup{fakewa.MarkupClassic, fakewa.Markup2026} {
		t.Run(markup.String(), func(t *testing.T) {
			t.Parallel()
			f, base := startFake(t, fakewa.WithMarkup(markup), fakewa.WithMediaLimits(64<<10, 256<<10))
			p, logs := testPool(t, base)
			s, rec := launch(t, p, "")
			me := fmt.Sprintf("155500071%02d", i)
			login(t, f, s, rec, 0, me)
			var ms wasend.MediaSender = s

			for n, c := range files {
				t.Run(c.name, func(t *testing.T) {
					to := fmt.Sprintf("1555710%d%03d", i, n)
					since := time.Now()
					ctx, mark := traced(quickCtx(t, 30*time.Second), nil)
					r, err := ms.SendMedia(ctx, "+"+to, c.m)
					require.NoError(t, err)
					assert.Equal(t, 1, mark.count(), "one mark before the click")
					got := f.Received(me, to)
					require.Len(t, got, 1, "exactly once")
					require.NotNil(t, got[0].Media)
					assert.Equal(t, fakewa.Media{Kind: c.kind, FileName: c.shown, MIMEType: c.mime, Size: int64(len(c.bytes)), SHA256: sha(c.bytes)}, *got[0].Media)
					assert.Equal(t, c.m.Caption, got[0].Text, "the caption intact")
					assert.True(t, strings.HasSuffix(r.MessageID, got[0].ID), "the receipt is the row's data-id: %q", r.MessageID)

					// The duplicate-send guard finds it, with and without
					// the mark; not another file or another caption.
					m := c.m
					for _, mk := range []string{mark.get(), ""} {
						fr, found, err := s.FindSent(quickCtx(t, 20*time.Second), wasend.SentQuery{To: "+" + to, Text: c.m.Caption, Since: since, Mark: mk, Media: &m})
						require.NoError(t, err)
						assert.True(t, found, "mark %q", mk)
						assert.Equal(t, r.MessageID, fr.MessageID)
					}
					_, found, err := s.FindSent(quickCtx(t, 20*time.Second), wasend.SentQuery{To: "+" + to, Text: c.m.Caption + " other", Since: since, Media: &m})
					require.NoError(t, err)
					assert.False(t, found, "another caption")
					if c.kind == fakewa.MediaDocument {
						other := m
						other.Name = "other.pdf"
						_, found, err := s.FindSent(quickCtx(t, 20*time.Second), wasend.SentQuery{To: "+" + to, Text: c.m.Caption, Since: since, Media: &other})
						require.NoError(t, err)
						assert.False(t, found, "another file name")
					}
					_, found, err = s.FindSent(quickCtx(t, 20*time.Second), wasend.SentQuery{To: "+" + to, Text: c.m.Caption, Since: since})
					require.NoError(t, err)
					assert.False(t, found, "a text message is not the attachment")
				})
			}

			t.Run("text and media in one chat", func(t *testing.T) {
				to := fmt.Sprintf("1555710%d100", i)
				_, err := s.SendText(quickCtx(t, 20*time.Second), "+"+to, "Your invoice 🧾")
				require.NoError(t, err)
				m := files[2].m
				_, err = ms.SendMedia(quickCtx(t, 30*time.Second), "+"+to, m)
				require.NoError(t, err)
				_, err = s.SendText(quickCtx(t, 20*time.Second), "+"+to, "Your invoice 🧾")
				require.NoError(t, err)
				got := f.Received(me, to)
				require.Len(t, got, 3)
				assert.Nil(t, got[0].Media)
				assert.NotNil(t, got[1].Media)
				assert.Nil(t, got[2].Media)
			})

			t.Run("over the page's limit", func(t *testing.T) {
				to := fmt.Sprintf("1555710%d200", i)
				bigJPG := writeFile(t, dir, fmt.Sprintf("big-%d.jpg", i), encodeJPEG(t, testImage(400, 300)))
				st, err := os.Stat(bigJPG)
				require.NoError(t, err)
				require.Greater(t, st.Size(), int64(64<<10))
				ctx, mark := traced(quickCtx(t, 30*time.Second), nil)
				_, err = ms.SendMedia(ctx, "+"+to, wasend.MediaFile{Kind: wasend.MediaImage, Path: bigJPG, Caption: "too big"})
				require.ErrorIs(t, err, wasend.ErrMediaTooLarge)
				assert.NotErrorIs(t, err, wasend.ErrUnconfirmed, "refused before the click")
				assert.False(t, wasend.Retryable(err))
				assert.Zero(t, mark.count(), "no mark: nothing was clicked")
				bigPDF := writeFile(t, dir, fmt.Sprintf("big-%d.pdf", i), bytes.Repeat([]byte("x"), 300<<10))
				_, err = ms.SendMedia(quickCtx(t, 30*time.Second), "+"+to, wasend.MediaFile{Kind: wasend.MediaDocument, Path: bigPDF})
				require.ErrorIs(t, err, wasend.ErrMediaTooLarge)
				assert.Empty(t, f.Received(me, to))
				// The session sends on.
				_, err = ms.SendMedia(quickCtx(t, 30*time.Second), "+"+to, files[1].m)
				require.NoError(t, err)
				assert.Len(t, f.Received(me, to), 1)
			})

			t.Run("bad input", func(t *testing.T) {
				_, err := ms.SendMedia(quickCtx(t, time.Second), "+1555", files[0].m)
				assert.ErrorIs(t, err, wasend.ErrInvalidPhone)
				_, err = ms.SendMedia(quickCtx(t, time.Second), "+15557109999", wasend.MediaFile{Kind: wasend.MediaImage, Path: filepath.Join(dir, "nope.jpg")})
				assert.ErrorIs(t, err, wasend.ErrInvalidMedia)
				_, _, err = s.FindSent(quickCtx(t, time.Second), wasend.SentQuery{To: "+15557109999", Media: &wasend.MediaFile{Kind: "gif"}})
				assert.ErrorIs(t, err, wasend.ErrInvalidMedia)
			})

			t.Run("typed caption", func(t *testing.T) {
				// The caption box gets the caption typed when a paste
				// does not fill it.
				p.typeOnly = true
				defer func() { p.typeOnly = false }()
				to := fmt.Sprintf("1555710%d300", i)
				m := files[0].m
				_, err := ms.SendMedia(quickCtx(t, 30*time.Second), "+"+to, m)
				require.NoError(t, err)
				got := f.Received(me, to)
				require.Len(t, got, 1)
				assert.Equal(t, m.Caption, got[0].Text)
				assert.Contains(t, logs.String(), "typing the caption")
			})

			focus, err := chromedp.Run(s.current().ctx, chromedp.Evaluate[bool]("document.hasFocus()"))
			require.NoError(t, err)
			assert.False(t, focus, "the page has no focus after media sends")
			out := logs.String()
			for _, c := range files {
				for _, line := range strings.Split(c.m.Caption, "\n") {
					if len(line) >= 6 {
						assert.NotContains(t, out, line)
					}
				}
			}
		})
	}
}
