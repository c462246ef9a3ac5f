package chromedpdriver

import (
	"bytes"
	"encoding/json"
	"errors"
	"image/png"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/internal/chromeflags"
)

func TestSelectorSetJSON(t *testing.T) {
	def := DefaultSelectors()
	require.NoError(t, def.Validate())
	assert.Equal(t, "whatsapp-web@2026.3", def.ID())

	// Round trip.
	b, err := json.Marshal(def)
	require.NoError(t, err)
	got, err := ParseSelectors(b)
	require.NoError(t, err)
	assert.Equal(t, def, got)

	// Every key of the set is in its JSON, with the names of
	// whatsapp-web.md §8 where it has them.
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	for _, k := range def.Keys() {
		assert.Contains(t, m, k)
	}
	for _, k := range []string{"qr_canvas", "qr_reload", "logged_in", "loading", "unsupported", "starting", "invalid", "invalid_ok", "conflict", "use_here", "compose", "send_btn", "out_row", "status"} {
		assert.Contains(t, def.Keys(), k)
	}

	// A partial set keeps the defaults of the keys it omits.
	got, err = ParseSelectors([]byte(`{"name":"mine","version":"7","compose":["#box"]}`))
	require.NoError(t, err)
	assert.Equal(t, []string{"#box"}, got.Compose)
	assert.Equal(t, def.LoggedIn, got.LoggedIn)
	assert.Equal(t, "mine@7", got.ID())

	// The file in testdata loads.
	fh, err := os.Open("testdata/selectors.json")
	require.NoError(t, err)
	defer fh.Close()
	set, err := LoadSelectors(fh)
	require.NoError(t, err)
	assert.Equal(t, "override-test", set.Name)

	// DefaultSelectors returns a copy.
	def.Compose[0] = "changed"
	assert.NotEqual(t, "changed", DefaultSelectors().Compose[0])

	bad := []struct{ name, json string }{
		{"unknown key", `{"name":"x","version":"1","composer":["#a"]}`},
		{"no name", `{"version":"1"}`},
		{"no version", `{"name":"x"}`},
		{"empty list", `{"name":"x","version":"1","compose":[]}`},
		{"empty entry", `{"name":"x","version":"1","compose":[" "]}`},
		{"empty text match", `{"name":"x","version":"1","use_here":["text="]}`},
		{"not a list", `{"name":"x","version":"1","compose":"#a"}`},
		{"not JSON", `{`},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSelectors([]byte(tt.json))
			assert.ErrorIs(t, err, wasend.ErrInvalidOption)
		})
	}
	_, err = compileSelectors(SelectorSet{Name: "x", Version: "1"}, 1)
	assert.ErrorIs(t, err, wasend.ErrInvalidOption, "a set with empty keys")

	se := &SelectorError{Set: "x@1", Step: "main", Keys: []string{"search_box", "logged_in"}}
	assert.ErrorIs(t, se, wasend.ErrSelectors)
	assert.Contains(t, se.Error(), "search_box, logged_in")
	st, gone := wasend.SessionStatus(se)
	assert.True(t, gone)
	assert.Equal(t, wasend.ContextError, st)
}

func TestQRHelpers(t *testing.T) {
	payload := "2@SwrS4z11AbCdEfGhIjKlMnOpQrStUvWxYz==,3WoJCbAbCdEfGhIjKlMnOpQrStUvWxYz=,F5lgONAbCdEf=,Z58FijAbCdEf="
	b, err := QRPNG(payload)
	require.NoError(t, err)
	img, err := png.Decode(bytes.NewReader(b))
	require.NoError(t, err)
	assert.Equal(t, QRPNGSize, img.Bounds().Dx())
	assert.Equal(t, QRPNGSize, img.Bounds().Dy())

	art := QRTerminal(payload)
	lines := strings.Split(strings.TrimRight(art, "\n"), "\n")
	assert.Greater(t, len(lines), 10)
	assert.True(t, strings.ContainsAny(art, "█▀▄"), "half blocks")

	_, err = QRPNG("")
	assert.Error(t, err)
	assert.Equal(t, "", QRTerminal(""))
	assert.Equal(t, "", QRTerminal(strings.Repeat("x", 5000)), "too long for a QR code")
}

func TestOptionsValidation(t *testing.T) {
	chrome := requireChromiumPath(t)
	base := []Option{WithExecPath(chrome), WithProfileRoot(t.TempDir()), WithUserAgent(desktopUA("linux", 150))}
	bad := []struct {
		name string
		opt  Option
	}{
		{"mode", WithMode(Mode(7))},
		{"empty profile root", WithProfileRoot(" ")},
		{"URL", WithURL("web.whatsapp.com")},
		{"URL scheme", WithURL("ftp://web.whatsapp.com")},
		{"headless UA", WithUserAgent("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36")},
		{"electron UA", WithUserAgent("Mozilla/5.0 Chrome/120.0.0.0 Electron/28.0.0")},
		{"navigation timeout", WithNavigationTimeout(0)},
		{"action timeout", WithActionTimeout(-time.Second)},
		{"watchdog", WithWatchdog(0, time.Second)},
		{"watchdog timeout", WithWatchdog(time.Second, 0)},
		{"backoff", WithRelaunchBackoff(time.Second, time.Millisecond)},
		{"poll", WithPollInterval(0)},
		{"close timeout", WithCloseTimeout(0)},
		{"ack visit interval", WithAckVisitInterval(0)},
		{"QR reload limit", WithQRReloadLimit(-1)},
		{"selectors", WithSelectors(SelectorSet{})},
		{"logger", WithLogger(nil)},
		{"managed flag", WithFlags("--user-data-dir=/tmp/x")},
		{"single process", WithFlags("--single-process")},
		{"empty flag", WithFlags("--")},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(append(base, tt.opt)...)
			assert.ErrorIs(t, err, wasend.ErrInvalidOption)
		})
	}

	_, err := New(WithExecPath("/no/such/chromium"))
	assert.ErrorIs(t, err, wasend.ErrInvalidOption)
	assert.ErrorIs(t, err, ErrNoBrowser)

	// Without a browser in PATH, New says how to install one.
	_, err = findBrowser(func(string) (string, error) { return "", exec.ErrNotFound })
	assert.ErrorIs(t, err, ErrNoBrowser)
	assert.Contains(t, err.Error(), "apt-get install -y chromium")
	got, err := findBrowser(func(n string) (string, error) {
		if n == "google-chrome" {
			return "/opt/google-chrome", nil
		}
		return "", exec.ErrNotFound
	})
	require.NoError(t, err)
	assert.Equal(t, "/opt/google-chrome", got)

	// Defaults and the environment.
	p, err := New(base...)
	require.NoError(t, err)
	assert.Equal(t, DefaultMode, p.cfg.mode)
	assert.Equal(t, DefaultURL, p.cfg.url)
	assert.Equal(t, DefaultNavigationTimeout, p.cfg.navTimeout)
	assert.True(t, p.cfg.headless)
	assert.True(t, filepath.IsAbs(p.cfg.profileRoot))
	require.NoError(t, p.Close())
	require.NoError(t, p.Close(), "idempotent")
	_, err = p.Launch(t.Context(), wasend.LaunchRequest{})
	assert.ErrorIs(t, err, wasend.ErrClosed)

	env, err := wasend.EnvFrom(func(k string) string {
		return map[string]string{
			"PUPPETEER_HEADLESS":           "false",
			"PUPPETEER_WHATSAPP_URL":       "http://127.0.0.1:9999/",
			"PUPPETEER_DEFAULT_TIMEOUT":    "12000",
			"PUPPETEER_NAVIGATION_TIMEOUT": "34000",
		}[k]
	})
	require.NoError(t, err)
	p, err = New(append(base, WithEnv(env))...)
	require.NoError(t, err)
	assert.False(t, p.cfg.headless)
	assert.Equal(t, "http://127.0.0.1:9999", p.cfg.url)
	assert.Equal(t, 12*time.Second, p.cfg.actionTimeout)
	assert.Equal(t, 34*time.Second, p.cfg.navTimeout)
	p, err = New(append(base, WithEnv(wasend.Env{}))...)
	require.NoError(t, err)
	assert.True(t, p.cfg.headless, "an empty Env changes nothing")
}

// requireChromiumPath is requireChromium for tests that only need a path
// that New accepts.
func requireChromiumPath(t *testing.T) string {
	t.Helper()
	if p, err := findBrowser(exec.LookPath); err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("Chromium not found")
	}
	p, err := exec.LookPath("true")
	require.NoError(t, err)
	return p
}

func TestUserAgent(t *testing.T) {
	for _, goos := range []string{"linux", "windows", "darwin", "freebsd"} {
		ua := desktopUA(goos, 156)
		assert.Contains(t, ua, "Chrome/156.0.0.0 Safari/537.36")
		assert.True(t, uaAccepted(ua), ua)
		assert.NotContains(t, ua, "Headless")
	}
	assert.Contains(t, desktopUA("linux", 156), "X11; Linux x86_64")
	assert.Contains(t, desktopUA("windows", 156), "Windows NT 10.0; Win64; x64")
	assert.Contains(t, desktopUA("freebsd", 156), "Windows NT 10.0", "other systems pass as Windows")
	assert.False(t, uaAccepted("Mozilla/5.0 HeadlessChrome/156.0.0.0"))

	major, err := parseMajor("Chromium 156.0.8078.108 built on Debian GNU/Linux 12 (bookworm)\n")
	require.NoError(t, err)
	assert.Equal(t, 156, major)
	major, err = parseMajor("Google Chrome 131.0.6778.85 ")
	require.NoError(t, err)
	assert.Equal(t, 131, major)
	_, err = parseMajor("no version")
	assert.Error(t, err)

	o := uaOverride("linux", desktopUA("linux", 140))
	assert.Equal(t, "Linux x86_64", o.Platform)
	require.NotNil(t, o.UserAgentMetadata)
	for _, b := range o.UserAgentMetadata.Brands {
		assert.NotContains(t, b.Brand, "Headless")
	}
	assert.Equal(t, "140", o.UserAgentMetadata.Brands[0].Version)

	// The pool derives the version from the installed browser.
	chrome := requireChromium(t)
	p, err := New(WithExecPath(chrome), WithProfileRoot(t.TempDir()))
	require.NoError(t, err)
	want, err := browserMajor(chrome)
	require.NoError(t, err)
	assert.Equal(t, desktopUA(goos(), want), p.UserAgent())
	assert.Equal(t, chrome, p.cfg.execPath)
	p, err = New(WithExecPath(chrome), WithProfileRoot(t.TempDir()), WithUserAgent("Mozilla/5.0 custom Chrome/150.0.0.0"))
	require.NoError(t, err)
	assert.Equal(t, "Mozilla/5.0 custom Chrome/150.0.0.0", p.UserAgent())
}

func TestChromeFlags(t *testing.T) {
	cfg := defaultConfig()
	cfg.flags = []string{"--proxy-server=http://127.0.0.1:3128", "disable-something"}
	ua := desktopUA("linux", 156)
	root := chromeflags.Args(chromeFlags(&cfg, ua, "/profiles/a", true))
	user := chromeflags.Args(chromeFlags(&cfg, ua, "/profiles/a", false))
	for _, want := range []string{
		"--headless", "--disable-blink-features=AutomationControlled", "--disable-dev-shm-usage",
		"--no-first-run", "--disable-background-networking", "--disable-component-update",
		"--disable-sync", "--disable-gpu", "--user-data-dir=/profiles/a", "--user-agent=" + ua, "--lang=en-US",
	} {
		assert.Contains(t, root, want)
		assert.Contains(t, user, want)
	}
	assert.Contains(t, root, "--no-sandbox", "as root")
	assert.NotContains(t, user, "--no-sandbox", "not as another user")
	for _, a := range root {
		assert.NotContains(t, a, "single-process")
		assert.NotContains(t, a, "enable-automation")
		assert.NotContains(t, a, "HeadlessChrome")
	}
	// The host's flags come last.
	assert.Equal(t, []string{"--proxy-server=http://127.0.0.1:3128", "--disable-something"}, root[len(root)-2:])

	cfg.headless = false
	assert.NotContains(t, chromeflags.Args(chromeFlags(&cfg, ua, "", true)), "--headless")
	assert.NotContains(t, strings.Join(chromeflags.Args(chromeFlags(&cfg, ua, "", true)), " "), "user-data-dir", "a temporary profile")
}

func TestDebugFiles(t *testing.T) {
	at := time.Date(2026, 3, 1, 10, 15, 30, 123e6, time.UTC)
	name := debugName(at, "persistent:abc123", "confirm")
	assert.Equal(t, "20260301T101530.123Z_persistent-abc123_confirm", name)
	name = debugName(at, "ephemeral:x/../../etc", "open chat/step")
	assert.NotContains(t, name, "/")
	assert.NotContains(t, name, " ")
	assert.Regexp(t, `^[A-Za-z0-9._-]+$`, name)

	dir := t.TempDir()
	for i := range 5 {
		paths, err := writeDebug(dir, debugName(at.Add(time.Duration(i)*time.Second), "persistent:abc", "confirm"), []byte("png"), "<html></html>", 6)
		require.NoError(t, err)
		assert.Len(t, paths, 2)
	}
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, ents, 6, "pruned to the newest files")
	assert.Equal(t, "20260301T101532.123Z_persistent-abc_confirm.html", ents[0].Name())
}

func TestParsePrePlain(t *testing.T) {
	utc := time.UTC
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"[10:15, 3/1/2026] Me: ", time.Date(2026, 3, 1, 10, 15, 0, 0, utc), true},
		{"[23:59, 12/31/2025] Me: ", time.Date(2025, 12, 31, 23, 59, 0, 0, utc), true},
		{"[1:07 PM, 9/29/2026] Ana: ", time.Date(2026, 9, 29, 13, 7, 0, 0, utc), true},
		{"[12:30 AM, 1/2/2026] Me: ", time.Date(2026, 1, 2, 0, 30, 0, 0, utc), true},
		{"[12:30 pm, 1/2/2026] Me: ", time.Date(2026, 1, 2, 12, 30, 0, 0, utc), true},
		{"[10:15, 01.03.2026] Ich: ", time.Date(2026, 3, 1, 10, 15, 0, 0, utc), true},
		{"[10:15, 2026-03-01] Me: ", time.Date(2026, 3, 1, 10, 15, 0, 0, utc), true},
		{"", time.Time{}, false},
		{"[25:15, 3/1/2026] Me: ", time.Time{}, false},
		{"[10:15, 13/40/2026] Me: ", time.Time{}, false},
		{"hello", time.Time{}, false},
	}
	for _, tt := range tests {
		got, ok := parsePrePlain(tt.in, utc)
		assert.Equal(t, tt.ok, ok, tt.in)
		if ok {
			assert.True(t, tt.want.Equal(got), "%s: got %v", tt.in, got)
		}
	}
	loc := pageLocation("America/Argentina/Buenos_Aires", 0)
	got, ok := parsePrePlain("[10:15, 3/1/2026] Me: ", loc)
	require.True(t, ok)
	assert.Equal(t, time.Date(2026, 3, 1, 13, 15, 0, 0, utc), got.UTC())
	assert.Equal(t, -180*60, offsetOf(pageLocation("", -180)))
}

func offsetOf(loc *time.Location) int {
	_, off := time.Date(2026, 1, 1, 0, 0, 0, 0, loc).Zone()
	return off
}

func TestSystemIDs(t *testing.T) {
	id := newSystemID(Persistent)
	assert.Regexp(t, `^persistent:[0-9a-f]{20}$`, id)
	m, name, err := parseSystemID(id)
	require.NoError(t, err)
	assert.Equal(t, Persistent, m)
	assert.Equal(t, id[len("persistent:"):], name)
	m, _, err = parseSystemID(newSystemID(Ephemeral))
	require.NoError(t, err)
	assert.Equal(t, Ephemeral, m)
	for _, bad := range []string{"", "persistent", "persistent:", "other:abc", "persistent:../x", "persistent:a/b", "persistent:..", "ephemeral: x", "persistent:" + strings.Repeat("a", 100)} {
		_, _, err := parseSystemID(bad)
		assert.ErrorIs(t, err, ErrInvalidSystemID, bad)
	}
}

func TestProfileLocks(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	dir := t.TempDir()
	require.NoError(t, claimProfile(dir))
	assert.ErrorIs(t, claimProfile(dir), ErrProfileInUse)
	assert.ErrorIs(t, claimProfile(dir), wasend.ErrContextHeld, "a Client leaves the context disconnected")
	releaseProfile(dir)
	require.NoError(t, claimProfile(dir))
	releaseProfile(dir)

	// A lock of a Chrome that ran on another host (an earlier container)
	// and that no local process holds is stale.
	require.NoError(t, os.Symlink("some-other-host-4242", filepath.Join(dir, "SingletonLock")))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "SingletonCookie"), nil, 0o600))
	require.NoError(t, unlockProfile(dir, log))
	_, err := os.Lstat(filepath.Join(dir, "SingletonLock"))
	assert.True(t, errors.Is(err, os.ErrNotExist))
	_, err = os.Lstat(filepath.Join(dir, "SingletonCookie"))
	assert.True(t, errors.Is(err, os.ErrNotExist))

	// A lock held by a live process on this host is not.
	cmd := exec.Command("sleep", "30")
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	host, _ := os.Hostname()
	require.NoError(t, os.Symlink(host+"-"+itoa(cmd.Process.Pid), filepath.Join(dir, "SingletonLock")))
	assert.ErrorIs(t, unlockProfile(dir, log), ErrProfileInUse)
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	require.NoError(t, unlockProfile(dir, log), "its process is gone")

	// No lock: nothing to do.
	require.NoError(t, unlockProfile(filepath.Join(dir, "new"), log))
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestSmallHelpers(t *testing.T) {
	assert.Equal(t, "ABCDEFGH", normalizeCode("A,B,C,D,E,F,G,H"))
	assert.Equal(t, "ABCD1234", normalizeCode("abcd-1234"))
	assert.True(t, titleMatches("+1 555 123 4567", "15551234567"))
	assert.True(t, titleMatches("Ana María", "15551234567"), "a saved contact's name")
	assert.False(t, titleMatches("+1 555 123 4568", "15551234567"))
	assert.False(t, titleMatches("", "15551234567"))
	assert.Equal(t, "a\nb\nc", normText("a\r\nb\rc"))
	d, err := phoneDigits("+54 9 11 2233-4455")
	require.NoError(t, err)
	assert.Equal(t, "5491122334455", d)
	_, err = phoneDigits("call me")
	assert.ErrorIs(t, err, wasend.ErrInvalidPhone)
	assert.Equal(t, "persistent", Persistent.String())
	assert.Equal(t, "ephemeral", Ephemeral.String())
	assert.Equal(t, "Mode(9)", Mode(9).String())
	for _, in := range []string{"--a=b", "a=b", "--flag"} {
		_, _, err := parseFlag(in)
		assert.NoError(t, err, in)
	}
	assert.True(t, lostConnection(errors.New("lost the connection to the browser: EOF")))
	assert.False(t, lostConnection(errors.New("boom")))
	assert.True(t, transient(errors.New("exception: Execution context was destroyed.")))
}

// The pool and its sessions implement the root's contracts.
var (
	_ wasend.BrowserPool      = (*Pool)(nil)
	_ wasend.Session          = (*Session)(nil)
	_ wasend.SentFinder       = (*Session)(nil)
	_ wasend.Marker           = (*Session)(nil)
	_ wasend.PhonePairer      = (*Session)(nil)
	_ wasend.ResourceReporter = (*Session)(nil)
	_ wasend.AckFollower      = (*Session)(nil)
	_ wasend.NumberChecker    = (*Session)(nil)
	_ wasend.InboxReader      = (*Session)(nil)
	_ wasend.MediaSender      = (*Session)(nil)
)

// Debug dumps hold whole pages, other people's chats included: they are
// off unless the host turns them on.
func TestDebugDumpsAreOptIn(t *testing.T) {
	p, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if p.cfg.debugDir != "" {
		t.Fatalf("debug dumps on by default, in %q", p.cfg.debugDir)
	}
	p2, err := New(WithDebugDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	defer p2.Close()
	if p2.cfg.debugDir == "" {
		t.Fatal("WithDebugDir did not turn them on")
	}
}

// A monitor reading that began before SetSelectors replaced a broken set
// must not put the session back in broken with the old set's error: the
// replacement made it loading, and WaitReady waits for the new set's
// self-test (a race seen in TestMarkups under load).
func TestKeepBrokenIgnoresAReplacedSet(t *testing.T) {
	old, replaced := &compiledSelectors{gen: 1}, &compiledSelectors{gen: 2}
	oldErr := &SelectorError{Set: "old", Step: "send", Keys: []string{"out_row"}}
	s := &Session{log: slog.New(slog.DiscardHandler), changed: make(chan struct{}),
		sel: replaced, state: StateLoading, brokenGen: old.gen, brokenErr: oldErr}

	s.keepBroken(old)
	assert.Equal(t, StateLoading, s.state, "a stale reading keeps the replacement's state")
	assert.NoError(t, s.stateErr)

	s.sel = old
	s.keepBroken(old)
	assert.Equal(t, StateBroken, s.state, "the broken set, still current, stays broken")
	assert.ErrorIs(t, s.stateErr, oldErr)
}
