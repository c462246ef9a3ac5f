package chromedpdriver

// This file sends files (wasend.MediaSender) through the page's attach
// menu, its hidden file input and its preview dialog, as a person does.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/wasend/wasend"
)

const (
	// menuWait is how long the attach menu may take to show its item.
	menuWait = 2 * time.Second
	// previewWait bounds the wait for the preview dialog after the file
	// is set (the page reads the file first).
	previewWait = 15 * time.Second
)

// mediaKey is the text by which the page code names the row of a media
// message (rowInfo): its kind, its caption and, for a document, its file
// name; an image's bubble shows no name.
func mediaKey(kind wasend.MediaKind, caption, name string) string {
	if kind != wasend.MediaDocument {
		name = ""
	}
	return "\x00media\x00" + string(kind) + "\x00" + normText(caption) + "\x00" + name
}

// mediaName is the name the recipient sees of m's file: m.Name, or the
// base name of m.Path.
func mediaName(m wasend.MediaFile) string {
	if m.Name != "" {
		return m.Name
	}
	return filepath.Base(m.Path)
}

// checkMedia validates m before anything is done, and returns the name the
// recipient will see: m.Name, or the base name of m.Path. Errors wrap
// wasend.ErrInvalidMedia (an unknown kind, no such file, an image type
// that is not one of wasend.ImageTypes, a name the page cannot carry),
// wasend.ErrMediaTooLarge (over wasend.MaxImageSize or MaxDocumentSize),
// wasend.ErrMediaChanged (m.Size that is not the file's) or
// wasend.ErrTextTooLong (a caption over wasend.MaxCaptionLength).
func checkMedia(m wasend.MediaFile) (string, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{wasend.ErrInvalidMedia}, args...)...)
	}
	var limit int64
	switch m.Kind {
	case wasend.MediaImage:
		limit = wasend.MaxImageSize
	case wasend.MediaDocument:
		limit = wasend.MaxDocumentSize
	default:
		return "", bad("unknown kind %q", m.Kind)
	}
	if m.Path == "" {
		return "", bad("no path")
	}
	st, err := os.Stat(m.Path)
	if err != nil {
		return "", bad("%v", err)
	}
	if !st.Mode().IsRegular() {
		return "", bad("%s is not a regular file", filepath.Base(m.Path))
	}
	if st.Size() == 0 {
		return "", bad("the file is empty")
	}
	if m.Size > 0 && m.Size != st.Size() {
		return "", fmt.Errorf("%w: the file has %d bytes, not %d", wasend.ErrMediaChanged, st.Size(), m.Size)
	}
	if st.Size() > limit {
		return "", fmt.Errorf("%w: %d bytes, over the %d of a %s", wasend.ErrMediaTooLarge, st.Size(), limit, m.Kind)
	}
	if n := utf8.RuneCountInString(m.Caption); n > wasend.MaxCaptionLength {
		return "", fmt.Errorf("%w: a caption of %d characters, over %d", wasend.ErrTextTooLong, n, wasend.MaxCaptionLength)
	}
	name := mediaName(m)
	if name == "." || name == ".." || strings.ContainsAny(name, "/\\\x00") || !utf8.ValidString(name) || len(name) > 255 {
		return "", bad("file name %q", name)
	}
	if m.Kind == wasend.MediaImage {
		typ := m.Type
		if typ == "" {
			typ = mime.TypeByExtension(strings.ToLower(filepath.Ext(name)))
		}
		typ, _, _ = strings.Cut(typ, ";")
		if !slices.Contains(wasend.ImageTypes, typ) {
			return "", bad("an image of type %q (want one of %s)", typ, strings.Join(wasend.ImageTypes, ", "))
		}
	}
	return name, nil
}

// uploadPath returns a path of the file whose base name is name, for the
// page, which names the file after the path it is given: the file itself,
// or a link to it (a copy where links fail) in a new folder. An image's
// name gets the extension of its type when it has none that the browser
// reads as that type, since the page takes a photo only by its type.
// done removes what it made.
func uploadPath(m wasend.MediaFile, name string) (path string, done func(), err error) {
	if m.Kind == wasend.MediaImage && m.Type != "" {
		typ, _, _ := strings.Cut(m.Type, ";")
		if got, _, _ := strings.Cut(mime.TypeByExtension(strings.ToLower(filepath.Ext(name))), ";"); got != typ {
			if exts, _ := mime.ExtensionsByType(typ); len(exts) > 0 {
				name += exts[0]
			}
		}
	}
	abs, err := filepath.Abs(m.Path)
	if err != nil {
		return "", nil, fmt.Errorf("%w: %v", wasend.ErrInvalidMedia, err)
	}
	if filepath.Base(abs) == name {
		return abs, func() {}, nil
	}
	dir, err := os.MkdirTemp("", "wasend-media-")
	if err != nil {
		return "", nil, fmt.Errorf("chromedpdriver: a folder for the file: %w", err)
	}
	done = func() { _ = os.RemoveAll(dir) }
	p := filepath.Join(dir, name)
	if err := os.Link(abs, p); err != nil {
		if err := os.Symlink(abs, p); err != nil {
			if err := copyFile(abs, p); err != nil {
				done()
				return "", nil, fmt.Errorf("chromedpdriver: a copy of the file: %w", err)
			}
		}
	}
	return p, done, nil
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o600)
}

// SendMedia sends a file to to (E.164), with m.Caption, and returns once
// its row shows a tick (wasend.MediaSender). It checks m first
// (checkMedia: typed errors, nothing done), opens the chat as SendText
// does, clicks Attach and the menu item of the kind ("Photos & videos" or
// "Document"), sets the file on the page's hidden file input through the
// DevTools protocol (DOM.setFileInputFiles, as a file chooser would), and
// waits for the preview dialog; a file that the page refuses (its toast:
// too large for the page's own limit, not supported, empty) gives
// wasend.ErrMediaTooLarge or wasend.ErrInvalidMedia and sends nothing. The
// caption goes into the preview's caption box as a paste, typed if the box
// does not read it back, and is checked. Just before the click on the
// preview's Send, it calls wasend.BeforeSend with a mark of the chat's
// outgoing rows that show the same attachment (see FindSent); after the
// click, every failure is wrapped with wasend.Unconfirmed, except a
// rejection that the page shows (wasend.ErrMessageRejected). The recipient
// sees m.Name (or the base name of m.Path): the page names the file after
// its path, so the session gives it a link of that name when the path's
// differs. An upload takes time; the wait for the tick is the call's
// deadline (WithActionTimeout when ctx has none).
func (s *Session) SendMedia(ctx context.Context, to string, m wasend.MediaFile) (wasend.Receipt, error) {
	digits, err := phoneDigits(to)
	if err != nil {
		return wasend.Receipt{}, err
	}
	name, err := checkMedia(m)
	if err != nil {
		return wasend.Receipt{}, err
	}
	path, done, err := uploadPath(m, name)
	if err != nil {
		return wasend.Receipt{}, err
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	start := time.Now()
	inc, err := s.acquire(ctx, false)
	if err != nil {
		done()
		s.noteFailure(err)
		return wasend.Receipt{}, err
	}
	defer s.unlock()
	tx := &sendTx{s: s, inc: inc, sel: s.selectors(), digits: digits, want: mediaKey(m.Kind, m.Caption, filepath.Base(path))}
	r, err := tx.runMedia(ctx, m, path)
	if err != nil {
		if tx.clicked && !errors.Is(err, wasend.ErrUnconfirmed) && !errors.Is(err, wasend.ErrMessageRejected) {
			err = wasend.Unconfirmed(err)
		}
		if tx.clicked {
			// The page may still read the file for its upload.
			time.AfterFunc(10*time.Minute, done)
		} else {
			done()
		}
		s.noteFailure(err)
		if errors.Is(err, wasend.ErrTimeout) {
			s.debugDump(ctx, "media-"+tx.step)
		}
		s.log.Warn("media send failed", "to", wasend.MaskPhone(to), "kind", m.Kind, "step", tx.step, "after_click", tx.clicked,
			"ms", time.Since(start).Milliseconds(), "err", err)
		return wasend.Receipt{}, err
	}
	done()
	s.log.Debug("media sent", "to", wasend.MaskPhone(to), "kind", m.Kind, "bytes", m.Size, "ms", time.Since(start).Milliseconds(), "id", r.MessageID != "")
	return r, nil
}

// runMedia is SendMedia's work on the page.
func (tx *sendTx) runMedia(ctx context.Context, m wasend.MediaFile, path string) (wasend.Receipt, error) {
	s := tx.s
	octx, cancel, err := tx.open(ctx)
	defer cancel()
	if err != nil {
		return wasend.Receipt{}, err
	}
	tx.step = "attach"
	if err := tx.attach(octx, m.Kind, path); err != nil {
		return wasend.Receipt{}, err
	}
	tx.step = "caption"
	if err := tx.caption(octx, m.Caption); err != nil {
		tx.closePreview(octx)
		return wasend.Receipt{}, err
	}
	tx.step = "mark"
	seen, err := evalOp[chatRows](octx, tx.sel, "mark", nil)
	if err != nil {
		tx.closePreview(octx)
		return wasend.Receipt{}, s.fail(octx, tx.inc, tx.step, err)
	}
	f, err := evalOp[pageFlags](octx, tx.sel, "probe", nil)
	if err != nil {
		tx.closePreview(octx)
		return wasend.Receipt{}, s.fail(octx, tx.inc, tx.step, err)
	}
	if err := s.blocker(octx, tx.sel, f); err != nil {
		tx.closePreview(octx)
		return wasend.Receipt{}, err
	}
	if err := tx.sameChat(f); err != nil {
		tx.closePreview(octx)
		return wasend.Receipt{}, err
	}
	tx.step = "before-send"
	if err := wasend.BeforeSend(ctx, makeMark(seen.Rows, tx.want, pageLocation(seen.TZ, seen.Offset))); err != nil {
		tx.closePreview(octx)
		return wasend.Receipt{}, err
	}
	tx.step = "send"
	ok, err := tx.press(octx, "media_send", false)
	if err == nil && !ok {
		ok, err = tx.press(octx, "media_caption", true)
		if err == nil && !ok {
			err = fmt.Errorf("%w: %s: neither the send button nor the caption box of the preview", wasend.ErrTimeout, tx.step)
		}
	}
	if err != nil && !tx.clicked {
		tx.closePreview(octx)
		return wasend.Receipt{}, err
	}
	if err != nil {
		return wasend.Receipt{}, wasend.Unconfirmed(s.fail(octx, tx.inc, tx.step, err))
	}
	tx.step = "confirm"
	return tx.confirm(octx)
}

// mediaState is what the "media" operation reads.
type mediaState struct {
	Preview bool   `json:"preview"`
	Error   string `json:"error"`
	Menu    bool   `json:"menu"`
}

// attach opens the attach menu, chooses the item of kind, sets the file on
// the hidden input and waits for the preview, or the page's refusal.
func (tx *sendTx) attach(ctx context.Context, kind wasend.MediaKind, path string) error {
	s := tx.s
	item, input := "attach_image", "file_image"
	if kind == wasend.MediaDocument {
		item, input = "attach_document", "file_document"
	}
	// The toasts of an earlier file are old news.
	if _, err := evalOp[mediaState](ctx, tx.sel, "media", map[string]any{"item": item, "mark": true}); err != nil {
		return s.fail(ctx, tx.inc, tx.step, err)
	}
	ok, err := click(ctx, tx.sel, "attach")
	if err != nil {
		return s.fail(ctx, tx.inc, tx.step, err)
	}
	if !ok {
		return s.broken(ctx, tx.sel, "media", []string{"attach"})
	}
	end := time.Now().Add(menuWait)
	for {
		st, err := evalOp[mediaState](ctx, tx.sel, "media", map[string]any{"item": item})
		if err != nil && !transient(err) {
			return s.fail(ctx, tx.inc, tx.step, err)
		}
		if err == nil && st.Menu {
			// The item opens a file chooser, which the page's own click
			// cannot (it needs a user gesture): the file goes straight to
			// the input below, as a chooser would put it there.
			if _, err := click(ctx, tx.sel, item); err != nil {
				return s.fail(ctx, tx.inc, tx.step, err)
			}
			break
		}
		if time.Now().After(end) {
			s.log.Debug("no attach menu item; setting the file on the input", "item", item)
			break
		}
		if !sleepCtx(ctx, pollStep) {
			return s.fail(ctx, tx.inc, tx.step, ctx.Err())
		}
	}
	if err := setInputFile(ctx, tx.sel, input, path); err != nil {
		if errors.Is(err, errNoElement) {
			return s.broken(ctx, tx.sel, "media", []string{input})
		}
		return s.fail(ctx, tx.inc, tx.step, err)
	}
	tx.step = "preview"
	end = time.Now().Add(previewWait)
	for {
		st, err := evalOp[mediaState](ctx, tx.sel, "media", map[string]any{"item": item})
		if err != nil && !transient(err) {
			return s.fail(ctx, tx.inc, tx.step, err)
		}
		if err == nil {
			if st.Error != "" {
				return mediaRefusal(st.Error)
			}
			if st.Preview {
				return nil
			}
		}
		if time.Now().After(end) {
			return fmt.Errorf("%w: %s: no preview after the file was set", wasend.ErrTimeout, tx.step)
		}
		if !sleepCtx(ctx, pollStep) {
			return s.fail(ctx, tx.inc, tx.step, ctx.Err())
		}
	}
}

// mediaRefusal turns the page's toast about a file into a typed error.
func mediaRefusal(toast string) error {
	if strings.Contains(toast, "larger than") {
		return fmt.Errorf("%w: the page says: %s", wasend.ErrMediaTooLarge, toast)
	}
	return fmt.Errorf("%w: the page says: %s", wasend.ErrInvalidMedia, toast)
}

// errNoElement means a selector key matched nothing.
var errNoElement = errors.New("chromedpdriver: no element")

// setInputFile sets the file at path on the file input of key, with
// DOM.setFileInputFiles, which fires the input's change event as a file
// chooser does.
func setInputFile(ctx context.Context, sel *compiledSelectors, key, path string) error {
	a, err := json.Marshal(map[string]string{"key": key})
	if err != nil {
		return err
	}
	expr := pageJS + `("element",` + sel.json + "," + string(a) + ")"
	countEval(ctx)
	return chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		res, err := chromedp.Call(ctx, runtime.Evaluate, runtime.EvaluateParams{Expression: expr})
		if err != nil {
			return err
		}
		if res.ExceptionDetails != nil {
			return fmt.Errorf("chromedpdriver: finding %s: %s", key, res.ExceptionDetails.Text)
		}
		if res.Result == nil || res.Result.ObjectID == "" {
			return errNoElement
		}
		defer func() {
			_, _ = chromedp.Call(ctx, runtime.ReleaseObject, runtime.ReleaseObjectParams{ObjectID: res.Result.ObjectID})
		}()
		_, err = chromedp.Call(ctx, dom.SetFileInputFiles, dom.SetFileInputFilesParams{Files: []string{path}, ObjectID: res.Result.ObjectID})
		return err
	}))
}

// caption puts the caption in the preview's caption box and checks it: a
// paste, then typing when the box does not read it back.
func (tx *sendTx) caption(ctx context.Context, caption string) error {
	s := tx.s
	want := normText(caption)
	if strings.TrimSpace(want) == "" {
		return nil
	}
	read := func() (bool, error) {
		end := time.Now().Add(time.Second)
		for {
			c, err := evalOp[composeState](ctx, tx.sel, "compose", map[string]string{"key": "media_caption"})
			if err != nil && !transient(err) {
				return false, err
			}
			if err == nil && c.Text == want {
				return true, nil
			}
			if time.Now().After(end) || !sleepCtx(ctx, pollStep) {
				return false, nil
			}
		}
	}
	if !s.pool.typeOnly {
		if _, err := evalOp[bool](ctx, tx.sel, "paste", map[string]string{"key": "media_caption", "text": want}); err != nil {
			return s.fail(ctx, tx.inc, tx.step, err)
		}
		ok, err := read()
		if err != nil {
			return s.fail(ctx, tx.inc, tx.step, err)
		}
		if ok {
			return nil
		}
		s.log.Info("the paste did not fill the caption box; typing the caption")
	} else {
		s.log.Info("typing the caption")
	}
	if _, err := evalOp[bool](ctx, tx.sel, "clear", map[string]string{"key": "media_caption"}); err != nil {
		return s.fail(ctx, tx.inc, tx.step, err)
	}
	if err := typeText(ctx, tx.sel, "media_caption", want); err != nil {
		return s.fail(ctx, tx.inc, tx.step, err)
	}
	ok, err := read()
	if err != nil {
		return s.fail(ctx, tx.inc, tx.step, err)
	}
	if !ok {
		return errors.New("chromedpdriver: the caption box does not read back the caption")
	}
	return nil
}

// closePreview closes the preview dialog of a media send that stops
// before its click (Escape in the caption box), so that the next send
// finds the chat as it was.
func (tx *sendTx) closePreview(ctx context.Context) {
	_, _ = evalOp[bool](ctx, tx.sel, "jskey", map[string]string{"key": "media_caption", "name": "Escape"})
}
