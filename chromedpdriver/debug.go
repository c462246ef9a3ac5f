package chromedpdriver

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
)

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// debugName returns the base name (without extension) of a debug file: the
// time, the system id and the step, and nothing else, so that no message
// text or phone number reaches a file name.
func debugName(at time.Time, systemID, step string) string {
	clean := func(s string, n int) string {
		s = strings.Trim(unsafeName.ReplaceAllString(s, "-"), "-.")
		if len(s) > n {
			s = s[:n]
		}
		if s == "" {
			s = "none"
		}
		return s
	}
	return at.UTC().Format("20060102T150405.000Z") + "_" + clean(systemID, 100) + "_" + clean(step, 40)
}

// writeDebug saves the screenshot and the HTML of a page under dir, and
// prunes the folder to max files. It returns the paths written.
func writeDebug(dir, base string, png []byte, html string, max int) ([]string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	var out []string
	if len(png) > 0 {
		p := filepath.Join(dir, base+".png")
		if err := os.WriteFile(p, png, 0o600); err != nil {
			return out, err
		}
		out = append(out, p)
	}
	if html != "" {
		p := filepath.Join(dir, base+".html")
		if err := os.WriteFile(p, []byte(html), 0o600); err != nil {
			return out, err
		}
		out = append(out, p)
	}
	pruneDebug(dir, max)
	return out, nil
}

// pruneDebug removes the oldest debug files beyond max. The names start
// with the time, so their order is their age.
func pruneDebug(dir string, max int) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	var names []string
	for _, e := range ents {
		n := e.Name()
		if e.Type().IsRegular() && (strings.HasSuffix(n, ".png") || strings.HasSuffix(n, ".html")) {
			names = append(names, n)
		}
	}
	if len(names) <= max {
		return
	}
	slices.Sort(names)
	for _, n := range names[:len(names)-max] {
		_ = os.Remove(filepath.Join(dir, n))
	}
}

// debugDump saves a screenshot and the HTML of the page, named after the
// time, the system id and the step.
func (s *Session) debugDump(ctx context.Context, step string) {
	dir := s.pool.cfg.debugDir
	inc := s.current()
	if dir == "" || inc == nil || inc.isDead() {
		return
	}
	dctx, cancel := s.opContext(context.WithoutCancel(ctx), inc, 3*time.Second)
	defer cancel()
	if d, ok := dctx.Deadline(); !ok || time.Until(d) > 3*time.Second {
		var c2 context.CancelFunc
		dctx, c2 = context.WithTimeout(dctx, 3*time.Second)
		defer c2()
	}
	png, err := chromedp.Run(dctx, chromedp.CaptureScreenshot())
	if err != nil {
		s.log.Debug("debug screenshot failed", "err", err)
	}
	html, err := evalOp[string](dctx, s.selectors(), "dump", nil)
	if err != nil {
		s.log.Debug("debug HTML failed", "err", err)
	}
	paths, err := writeDebug(dir, debugName(time.Now(), s.id, step), png, html, s.pool.cfg.debugMaxFiles)
	if err != nil {
		s.log.Warn("writing debug files", "err", err)
		return
	}
	if len(paths) > 0 {
		s.log.Info("debug files saved", "step", step, "files", strings.Join(paths, ","))
	}
}
