package chromedpdriver

import (
	"fmt"
	"log/slog"
	"net/url"
	"os/exec"
	"strings"
	"time"

	"github.com/wasend/wasend"
)

// Mode says how a session's browser is run.
type Mode int

const (
	// Persistent runs one Chrome process per session, with its own profile
	// folder under the profile root, so that the login survives restarts.
	Persistent Mode = iota
	// Ephemeral runs each session in its own in-memory profile (an
	// incognito-like Chrome browser context) of one Chrome shared by the pool: it
	// costs less, but the login is lost when the session ends.
	Ephemeral
)

// String returns "persistent" or "ephemeral"; they are also the prefixes of
// the sessions' system ids.
func (m Mode) String() string {
	switch m {
	case Persistent:
		return "persistent"
	case Ephemeral:
		return "ephemeral"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Defaults of the options of New.
const (
	// DefaultMode is the session mode.
	DefaultMode = Persistent
	// DefaultProfileRoot is the folder that holds the profile folders of
	// persistent sessions, relative to the working directory.
	DefaultProfileRoot = "wasend-profiles"
	// DefaultHeadless runs Chrome without a window.
	DefaultHeadless = true
	// DefaultURL is WhatsApp Web's address.
	DefaultURL = "https://web.whatsapp.com"
	// DefaultNavigationTimeout bounds a full page load and the opening of a
	// chat; a page that shows none of the known states for this long fails
	// the selector self-test.
	DefaultNavigationTimeout = 60 * time.Second
	// DefaultActionTimeout bounds a call (SendText, FindSent,
	// RequestPairingCode) whose ctx has no deadline.
	DefaultActionTimeout = 30 * time.Second
	// DefaultQRReloadLimit is how many times a session clicks "Click to
	// reload QR code" in a row before it waits for the host.
	DefaultQRReloadLimit = 5
	// DefaultTakeover says whether a session takes the login back ("Use
	// here") when WhatsApp Web is opened in another window.
	DefaultTakeover = false
	// DefaultDebugDir is the folder for the screenshots and HTML of failed
	// steps: none. A dump holds the whole page, other people's chats and
	// numbers included, so the host turns dumps on (WithDebugDir) only
	// where that is acceptable.
	DefaultDebugDir = ""
	// DefaultDebugMaxFiles caps the files kept in the debug folder; the
	// oldest go first.
	DefaultDebugMaxFiles = 200
	// DefaultWatchdogInterval is how often the watchdog checks that the
	// page still runs JavaScript.
	DefaultWatchdogInterval = 10 * time.Second
	// DefaultWatchdogTimeout is how long the page may take to answer the
	// watchdog before the session counts as hung.
	DefaultWatchdogTimeout = 20 * time.Second
	// DefaultRelaunchMin and DefaultRelaunchMax bound the backoff between
	// relaunches of a browser that died.
	DefaultRelaunchMin = time.Second
	DefaultRelaunchMax = time.Minute
	// DefaultPollInterval is how often a session's monitor reads the page.
	DefaultPollInterval = 250 * time.Millisecond
	// DefaultCloseTimeout bounds a graceful close when Close's ctx has no
	// deadline; the browser is killed after it.
	DefaultCloseTimeout = 10 * time.Second
	// DefaultRejectWatch is how long SendText keeps watching a message's
	// row after its tick for the fail icon of a rejection.
	DefaultRejectWatch = 1500 * time.Millisecond
	// DefaultTypingPerChar is how long typing one character takes before a
	// send: 0, typing simulation off (the text is pasted at once).
	DefaultTypingPerChar = time.Duration(0)
	// DefaultTypingMax bounds the typing of one message when the
	// simulation is on.
	DefaultTypingMax = 8 * time.Second
	// DefaultAckVisitInterval is how often a session opens a chat that is
	// not open to read the ticks of messages that neither the open chat
	// nor the chat list shows: one chat per interval.
	DefaultAckVisitInterval = 30 * time.Second
	// DefaultSnapshotInterval is how often a logged-in persistent session
	// saves a snapshot of its login to the ProfileStore (WithProfileStore),
	// besides the one at Close.
	DefaultSnapshotInterval = 10 * time.Minute
	// DefaultChromeMajor is the Chrome version of the default User-Agent
	// when the browser's own version cannot be read.
	DefaultChromeMajor = 156
)

// Option configures a Pool.
type Option func(*config)

type config struct {
	execPath         string
	execPathSet      bool
	mode             Mode
	profileRoot      string
	headless         bool
	url              string
	userAgent        string
	navTimeout       time.Duration
	actionTimeout    time.Duration
	selectors        SelectorSet
	qrReloadLimit    int
	takeover         bool
	debugDir         string
	debugMaxFiles    int
	watchdogInterval time.Duration
	watchdogTimeout  time.Duration
	relaunchMin      time.Duration
	relaunchMax      time.Duration
	pollInterval     time.Duration
	closeTimeout     time.Duration
	rejectWatch      time.Duration
	typingPerChar    time.Duration
	typingMax        time.Duration
	ackVisitInterval time.Duration
	flags            []string
	logger           *slog.Logger
	profileStore     wasend.ProfileStore
	profileCipher    wasend.ProfileCipher
	snapshotInterval time.Duration
	// loginSnaps are when a session that became ready saves its login,
	// counted from then (defaultLoginSnapshots; tests shorten them).
	loginSnaps []time.Duration
}

func defaultConfig() config {
	return config{
		mode:             DefaultMode,
		profileRoot:      DefaultProfileRoot,
		headless:         DefaultHeadless,
		url:              DefaultURL,
		navTimeout:       DefaultNavigationTimeout,
		actionTimeout:    DefaultActionTimeout,
		selectors:        DefaultSelectors(),
		qrReloadLimit:    DefaultQRReloadLimit,
		takeover:         DefaultTakeover,
		debugDir:         DefaultDebugDir,
		debugMaxFiles:    DefaultDebugMaxFiles,
		watchdogInterval: DefaultWatchdogInterval,
		watchdogTimeout:  DefaultWatchdogTimeout,
		relaunchMin:      DefaultRelaunchMin,
		relaunchMax:      DefaultRelaunchMax,
		pollInterval:     DefaultPollInterval,
		closeTimeout:     DefaultCloseTimeout,
		rejectWatch:      DefaultRejectWatch,
		typingPerChar:    DefaultTypingPerChar,
		typingMax:        DefaultTypingMax,
		ackVisitInterval: DefaultAckVisitInterval,
		logger:           slog.Default(),
		snapshotInterval: DefaultSnapshotInterval,
		loginSnaps:       defaultLoginSnapshots,
	}
}

// browserNames are the programs New looks for in PATH, in order.
var browserNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// findBrowser returns the first of browserNames found by look.
func findBrowser(look func(string) (string, error)) (string, error) {
	for _, n := range browserNames {
		if p, err := look(n); err == nil {
			return p, nil
		}
	}
	return "", ErrNoBrowser
}

// managedFlags are the flags the driver sets itself.
var managedFlags = []string{"user-data-dir", "remote-debugging-pipe", "remote-debugging-port", "remote-debugging-address", "single-process", "headless"}

func (c *config) validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{wasend.ErrInvalidOption}, args...)...)
	}
	if c.logger == nil {
		return bad("nil logger")
	}
	if c.mode != Persistent && c.mode != Ephemeral {
		return bad("unknown mode %v", c.mode)
	}
	if strings.TrimSpace(c.profileRoot) == "" {
		return bad("empty profile root")
	}
	u, err := url.Parse(c.url)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return bad("URL %q is not an absolute http(s) URL", c.url)
	}
	if c.userAgent != "" && !uaAccepted(c.userAgent) {
		return bad("user agent %q would be refused by WhatsApp Web", c.userAgent)
	}
	durations := []struct {
		name string
		d    time.Duration
	}{
		{"navigation timeout", c.navTimeout}, {"action timeout", c.actionTimeout},
		{"watchdog interval", c.watchdogInterval}, {"watchdog timeout", c.watchdogTimeout},
		{"relaunch backoff", c.relaunchMin}, {"poll interval", c.pollInterval},
		{"close timeout", c.closeTimeout}, {"ack visit interval", c.ackVisitInterval},
		{"snapshot interval", c.snapshotInterval},
	}
	for _, d := range durations {
		if d.d <= 0 {
			return bad("%s must be positive (%v)", d.name, d.d)
		}
	}
	if c.relaunchMax < c.relaunchMin {
		return bad("relaunch backoff max %v is below min %v", c.relaunchMax, c.relaunchMin)
	}
	if c.typingPerChar < 0 || c.typingMax < 0 || (c.typingPerChar > 0 && c.typingMax == 0) {
		return bad("typing needs a non-negative time per character and a positive bound (%v, %v)", c.typingPerChar, c.typingMax)
	}
	if c.rejectWatch < 0 {
		return bad("negative reject watch (%v)", c.rejectWatch)
	}
	if c.qrReloadLimit < 0 {
		return bad("negative QR reload limit")
	}
	if c.debugMaxFiles <= 0 {
		return bad("debug max files must be positive")
	}
	if err := c.selectors.Validate(); err != nil {
		return err
	}
	for _, f := range c.flags {
		name, _, err := parseFlag(f)
		if err != nil {
			return bad("%v", err)
		}
		for _, m := range managedFlags {
			if name == m {
				return bad("flag --%s is set by the driver", name)
			}
		}
	}
	if c.execPathSet {
		p, err := exec.LookPath(c.execPath)
		if err != nil {
			return fmt.Errorf("%w: exec path %q: %w", wasend.ErrInvalidOption, c.execPath, ErrNoBrowser)
		}
		c.execPath = p
	} else {
		p, err := findBrowser(exec.LookPath)
		if err != nil {
			return err
		}
		c.execPath = p
	}
	return nil
}

// parseFlag splits "--name=value", "--name" or "name=value".
func parseFlag(f string) (name string, value any, err error) {
	s := strings.TrimLeft(strings.TrimSpace(f), "-")
	if s == "" {
		return "", nil, fmt.Errorf("empty flag %q", f)
	}
	name, v, ok := strings.Cut(s, "=")
	if name == "" || strings.ContainsAny(name, " \t") {
		return "", nil, fmt.Errorf("bad flag %q", f)
	}
	if !ok {
		return name, true, nil
	}
	return name, v, nil
}

// WithExecPath sets the Chrome or Chromium program, as a path or a name
// found in PATH. Default: the first of chromium, chromium-browser,
// google-chrome and google-chrome-stable found in PATH; New fails with
// ErrNoBrowser when there is none.
func WithExecPath(path string) Option {
	return func(c *config) { c.execPath, c.execPathSet = path, true }
}

// WithMode sets how sessions run: Persistent (a Chrome with its own profile
// folder per session, so the login survives restarts) or Ephemeral (an
// in-memory profile in one shared Chrome; the login is lost). A resumed
// session keeps the mode of its system id. Default: DefaultMode (Persistent).
func WithMode(m Mode) Option { return func(c *config) { c.mode = m } }

// WithProfileRoot sets the folder that holds one profile folder per
// persistent session. Default: DefaultProfileRoot ("wasend-profiles").
func WithProfileRoot(dir string) Option { return func(c *config) { c.profileRoot = dir } }

// WithHeadless runs Chrome without a window (true) or with one (false; it
// needs a display). Default: DefaultHeadless (true).
func WithHeadless(b bool) Option { return func(c *config) { c.headless = b } }

// WithURL sets WhatsApp Web's address; tests point it at a local
// imitation. Default: DefaultURL ("https://web.whatsapp.com").
func WithURL(u string) Option { return func(c *config) { c.url = strings.TrimRight(u, "/") } }

// WithUserAgent sets the User-Agent. One that WhatsApp Web refuses (it
// contains HeadlessChrome, Electron or QtWebEngine) is an error. Default: a
// desktop Chrome User-Agent for the host's system, with the major version
// of the browser found (DefaultChromeMajor if it cannot be read).
func WithUserAgent(ua string) Option { return func(c *config) { c.userAgent = ua } }

// WithNavigationTimeout bounds a full page load and the opening of a chat.
// Default: DefaultNavigationTimeout (60 s).
func WithNavigationTimeout(d time.Duration) Option { return func(c *config) { c.navTimeout = d } }

// WithActionTimeout bounds SendText, FindSent and RequestPairingCode when
// their ctx has no deadline. Default: DefaultActionTimeout (30 s).
func WithActionTimeout(d time.Duration) Option { return func(c *config) { c.actionTimeout = d } }

// WithSelectors replaces the selector set. Default: DefaultSelectors().
func WithSelectors(s SelectorSet) Option { return func(c *config) { c.selectors = s.clone() } }

// WithQRReloadLimit sets how many expired QR codes in a row a session
// reloads by itself. Default: DefaultQRReloadLimit (5).
func WithQRReloadLimit(n int) Option { return func(c *config) { c.qrReloadLimit = n } }

// WithTakeoverOnConflict makes a session click "Use here" when WhatsApp Web
// is opened for its account in another window, instead of reporting
// ErrConflict. (wasend.WithTakeover is another thing: a process opening
// contexts that no process holds.) Default: DefaultTakeover (false).
func WithTakeoverOnConflict(b bool) Option { return func(c *config) { c.takeover = b } }

// WithDebugDir turns on the screenshot and HTML saved, in dir, when a step
// times out or the selector set fails; "" turns them off. File names hold
// the time, the system id and the step, never message text or a number,
// but the files hold the whole page as the browser shows it: the open
// chat's messages, the chat list's names, numbers and last messages. Turn
// them on where such data may be kept, for example while fixing a
// selector set. Default: DefaultDebugDir (off).
func WithDebugDir(dir string) Option { return func(c *config) { c.debugDir = dir } }

// WithWatchdog sets how often the watchdog asks the page to evaluate 1,
// and how long it may take before the session counts as hung (its browser
// is then relaunched). Default: DefaultWatchdogInterval (10 s) and
// DefaultWatchdogTimeout (20 s).
func WithWatchdog(interval, timeout time.Duration) Option {
	return func(c *config) { c.watchdogInterval, c.watchdogTimeout = interval, timeout }
}

// WithRelaunchBackoff bounds the wait before a dead browser is relaunched;
// it doubles from min to max while relaunches fail. Default:
// DefaultRelaunchMin (1 s) and DefaultRelaunchMax (1 min).
func WithRelaunchBackoff(min, max time.Duration) Option {
	return func(c *config) { c.relaunchMin, c.relaunchMax = min, max }
}

// WithPollInterval sets how often a session's monitor reads the page to
// report QR codes and status changes. Default: DefaultPollInterval (250 ms).
func WithPollInterval(d time.Duration) Option { return func(c *config) { c.pollInterval = d } }

// WithCloseTimeout bounds a session's graceful close when Close's ctx has
// no deadline. Default: DefaultCloseTimeout (10 s).
func WithCloseTimeout(d time.Duration) Option { return func(c *config) { c.closeTimeout = d } }

// WithRejectWatch sets how long SendText keeps watching a message's row
// after its tick (sent) for the fail icon of a message that WhatsApp
// rejects a moment later; such a send returns an error wrapping
// wasend.ErrMessageRejected instead of a receipt. The watch ends as soon
// as the row shows delivered (or read): a rejection comes from the server,
// before the recipient's phone has the message. Zero turns the watch off:
// the fail icon is then seen only while waiting for the tick.
// Default: DefaultRejectWatch (1.5 s).
func WithRejectWatch(d time.Duration) Option { return func(c *config) { c.rejectWatch = d } }

// WithTyping turns on the typing simulation: before the click, SendText
// types the text into the compose box a few characters at a time, with
// the page's editing command (line breaks as Shift+Enter key events),
// taking perChar per character but no more than max in all (longer texts
// are typed in bigger pieces). The compose box changes for that long, so
// the contact sees "typing…"
// (WhatsApp's "composing" presence) for a time about proportional to the
// text's length, as with a person. The text is read back and compared as
// after a paste; if the box disagrees it is cleared and pasted instead.
// Keep perChar well below a few seconds: WhatsApp Web sends "paused"
// after a pause in the typing. This is the driver's own, per-message
// behaviour; the Client's pacing between messages is separate.
// Default: DefaultTypingPerChar (0, off) and DefaultTypingMax (8 s).
func WithTyping(perChar, max time.Duration) Option {
	return func(c *config) { c.typingPerChar, c.typingMax = perChar, max }
}

// WithAckVisitInterval sets how often a session opens a chat that is not
// open, to read the ticks of followed messages (wasend.AckFollower) that
// neither the open chat nor the chat list shows: one chat per interval,
// the one visited longest ago first, and never while a call waits for the
// page. The open chat and the chat list are read at every poll without a
// visit. Default: DefaultAckVisitInterval (30 s).
func WithAckVisitInterval(d time.Duration) Option {
	return func(c *config) { c.ackVisitInterval = d }
}

// WithFlags adds Chrome command-line flags ("--name=value" or "--name"),
// after the driver's own. Flags that the driver manages (--user-data-dir,
// --headless, --remote-debugging-*, --single-process) are refused.
// Default: none.
func WithFlags(flags ...string) Option {
	return func(c *config) { c.flags = append(c.flags, flags...) }
}

// WithLogger sets the logger. Message text and whole phone numbers never
// reach it. Default: slog.Default().
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithEnv applies the Puppeteer variables of wasend.Env: PUPPETEER_HEADLESS
// (WithHeadless), PUPPETEER_WHATSAPP_URL (WithURL),
// PUPPETEER_DEFAULT_TIMEOUT (WithActionTimeout) and
// PUPPETEER_NAVIGATION_TIMEOUT (WithNavigationTimeout). Unset fields leave
// the options as they are. Default: not applied.
func WithEnv(e wasend.Env) Option {
	return func(c *config) {
		if e.Headless != nil {
			c.headless = *e.Headless
		}
		if e.WhatsAppURL != "" {
			c.url = strings.TrimRight(e.WhatsAppURL, "/")
		}
		if e.DefaultTimeout > 0 {
			c.actionTimeout = e.DefaultTimeout
		}
		if e.NavigationTimeout > 0 {
			c.navTimeout = e.NavigationTimeout
		}
	}
}

// WithProfileStore makes persistent sessions keep their login in store as
// well as in their profile folder, so that a process on another machine
// (another profile root) can open them without a QR code. A logged-in
// session saves a snapshot (the profile's Local Storage and the WhatsApp
// Web origin's IndexedDB, compressed, with its checksum) 10 s and 1 min
// after it became ready (a login), every snapshot interval, and at Close,
// after the browser has exited (Close waits for that save, up to 30 s
// past its ctx); Launch restores the latest one before the browser starts
// when the session's profile folder is missing or empty, or older than
// the stored snapshot (another process used the login since). A snapshot that is missing, corrupt or
// cannot be opened is logged (Session.ProfileRestore tells which) and the
// session shows a QR code; a store that fails otherwise (unreachable)
// fails Launch, to be tried again. A snapshot is a login: see
// wasend.ProfileSnapshot, and WithProfileCipher. Default: nil (no
// snapshots).
func WithProfileStore(store wasend.ProfileStore) Option {
	return func(c *config) { c.profileStore = store }
}

// WithProfileCipher seals the snapshots before they reach the ProfileStore
// and opens them after (wasend.NewProfileCipher), so that the store holds
// no login in the clear. A snapshot that the cipher cannot open (a wrong
// key) is not restored. Default: nil (snapshots are stored as they are).
func WithProfileCipher(c wasend.ProfileCipher) Option {
	return func(cfg *config) { cfg.profileCipher = c }
}

// WithSnapshotInterval sets how often a logged-in persistent session saves
// a snapshot of its login (WithProfileStore). Default:
// DefaultSnapshotInterval (10 min).
func WithSnapshotInterval(d time.Duration) Option {
	return func(c *config) { c.snapshotInterval = d }
}

// withLoginSnapshots sets when a session that became ready saves its login
// (defaultLoginSnapshots), for the tests.
func withLoginSnapshots(after ...time.Duration) Option {
	return func(c *config) { c.loginSnaps = after }
}
