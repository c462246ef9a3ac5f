package fakewa

import (
	"fmt"
	"log/slog"
	"time"
)

// Defaults of the options of New.
const (
	// DefaultQRFirst is how long the first QR code of a cycle stays valid.
	DefaultQRFirst = 60 * time.Second
	// DefaultQRRotate is how long each later QR code of a cycle stays valid.
	DefaultQRRotate = 20 * time.Second
	// DefaultQRMaxRefreshes is how many times the QR code changes before the
	// page shows the "Click to reload QR code" button.
	DefaultQRMaxRefreshes = 5
	// DefaultBootDelay is how long the splash screen (#initial_startup) shows.
	DefaultBootDelay = time.Second
	// DefaultLoadingDelay is how long "Loading your chats" shows.
	DefaultLoadingDelay = time.Second
	// DefaultStartingChatDelay is how long the "Starting chat" modal shows.
	DefaultStartingChatDelay = time.Second
	// DefaultPendingDelay is how long the server takes to accept a message.
	DefaultPendingDelay = 500 * time.Millisecond
	// DefaultSentDelay is how long after the acceptance a message becomes Sent.
	DefaultSentDelay = time.Second
	// DefaultDeliveredDelay is how long after Sent a message becomes Delivered.
	DefaultDeliveredDelay = time.Second
	// DefaultRejectDelay is how long after Sent a message that the server
	// rejects (RejectNext) shows the fail icon instead of its tick.
	DefaultRejectDelay = time.Second
	// DefaultReadDelay is how long after Delivered a message becomes Read.
	// Zero means never.
	DefaultReadDelay = time.Duration(0)
	// DefaultImageLimit is the largest photo or video, in bytes, that the
	// page sends (16 MiB).
	DefaultImageLimit = 16 << 20
	// DefaultDocumentLimit is the largest document, in bytes, that the
	// page sends (100 MiB).
	DefaultDocumentLimit = 100 << 20
	// DefaultIDStyle is the style of the data-id attribute of message rows.
	DefaultIDStyle = IDStyleJID
	// DefaultMarkup is the markup of the chat's rows, ticks and dialogs.
	DefaultMarkup = MarkupClassic
	// DefaultMinChromeMajor is the lowest Chrome major version the page accepts.
	DefaultMinChromeMajor = 85
	// DefaultAddr is the address Start listens on.
	DefaultAddr = "127.0.0.1:0"
)

// IDStyle selects how the page writes the data-id attribute of a message row.
type IDStyle int

const (
	// IDStyleJID writes data-id as "true_<digits>@c.us_<ID>", as WhatsApp
	// Web did until 2025.
	IDStyleJID IDStyle = iota
	// IDStyleHash writes data-id as a bare upper-case hex hash, as newer
	// builds do.
	IDStyleHash
)

// String returns "jid" or "hash".
func (s IDStyle) String() string {
	switch s {
	case IDStyleJID:
		return "jid"
	case IDStyleHash:
		return "hash"
	}
	return fmt.Sprintf("IDStyle(%d)", int(s))
}

// Markup selects the build of WhatsApp Web whose markup the page renders
// for message rows, ticks and the invalid-number dialog.
type Markup int

const (
	// MarkupClassic is the markup that bots relied on from 2020 to 2025:
	// rows in div.message-out and div.message-in, ticks as
	// span[data-icon=msg-time|msg-check|msg-dblcheck] with an aria-label,
	// and the dialog "Phone number shared via url is invalid.".
	MarkupClassic Markup = iota
	// Markup2026 is the markup of mid-2026 builds (whatsapp-web.md §10.4
	// to §10.6): rows without message-out or message-in classes and with
	// a bare-hash data-id (WithIDStyle does not apply), direction shown
	// only by a hidden speaker label (span[aria-label='You:'] or
	// "+<number>:") and by a tail icon on the first row of a run, ticks as
	// an aria-label and an svg <title> with no data-icon (wds-ic-status-
	// pending, wds-ic-delivered for one tick, wds-ic-read with the blue
	// class x1rv0e52 for read), WDS icons without data-icon, and the
	// dialog "The number … isn't on WhatsApp." with an OK button.
	Markup2026
)

// String returns "classic" or "2026".
func (m Markup) String() string {
	switch m {
	case MarkupClassic:
		return "classic"
	case Markup2026:
		return "2026"
	}
	return fmt.Sprintf("Markup(%d)", int(m))
}

// Option configures a Server. Options are applied in order, so the last one
// of a kind wins.
type Option func(*config)

type config struct {
	qrFirst        time.Duration
	qrRotate       time.Duration
	qrMaxRefreshes int
	bootDelay      time.Duration
	loadingDelay   time.Duration
	startingDelay  time.Duration
	pendingDelay   time.Duration
	sentDelay      time.Duration
	deliveredDelay time.Duration
	readDelay      time.Duration
	rejectDelay    time.Duration
	idStyle        IDStyle
	markup         Markup
	imageLimit     int64
	documentLimit  int64
	minChrome      int
	seed           int64
	seeded         bool
	logger         *slog.Logger
	addr           string
}

func defaultConfig() config {
	return config{
		qrFirst:        DefaultQRFirst,
		qrRotate:       DefaultQRRotate,
		qrMaxRefreshes: DefaultQRMaxRefreshes,
		bootDelay:      DefaultBootDelay,
		loadingDelay:   DefaultLoadingDelay,
		startingDelay:  DefaultStartingChatDelay,
		pendingDelay:   DefaultPendingDelay,
		sentDelay:      DefaultSentDelay,
		deliveredDelay: DefaultDeliveredDelay,
		readDelay:      DefaultReadDelay,
		rejectDelay:    DefaultRejectDelay,
		idStyle:        DefaultIDStyle,
		markup:         DefaultMarkup,
		imageLimit:     DefaultImageLimit,
		documentLimit:  DefaultDocumentLimit,
		minChrome:      DefaultMinChromeMajor,
		addr:           DefaultAddr,
	}
}

// validate reports the first invalid value, so that New can fail early.
func (c *config) validate() error {
	durations := []struct {
		name string
		d    time.Duration
	}{
		{"QR first", c.qrFirst}, {"QR rotate", c.qrRotate},
		{"boot delay", c.bootDelay}, {"loading delay", c.loadingDelay},
		{"starting chat delay", c.startingDelay},
		{"pending delay", c.pendingDelay}, {"sent delay", c.sentDelay},
		{"delivered delay", c.deliveredDelay}, {"read delay", c.readDelay},
		{"reject delay", c.rejectDelay},
	}
	for _, d := range durations {
		if d.d < 0 {
			return fmt.Errorf("%w: %s is negative (%v)", ErrInvalidOption, d.name, d.d)
		}
	}
	if c.qrFirst == 0 || c.qrRotate == 0 {
		return fmt.Errorf("%w: QR lifetimes must be positive", ErrInvalidOption)
	}
	if c.qrMaxRefreshes < 0 {
		return fmt.Errorf("%w: QR max refreshes is negative (%d)", ErrInvalidOption, c.qrMaxRefreshes)
	}
	if c.idStyle != IDStyleJID && c.idStyle != IDStyleHash {
		return fmt.Errorf("%w: unknown %v", ErrInvalidOption, c.idStyle)
	}
	if c.markup != MarkupClassic && c.markup != Markup2026 {
		return fmt.Errorf("%w: unknown %v", ErrInvalidOption, c.markup)
	}
	if c.imageLimit <= 0 || c.documentLimit <= 0 {
		return fmt.Errorf("%w: media limits must be positive (%d, %d)", ErrInvalidOption, c.imageLimit, c.documentLimit)
	}
	if c.minChrome < 0 {
		return fmt.Errorf("%w: min Chrome major is negative (%d)", ErrInvalidOption, c.minChrome)
	}
	return nil
}

// WithQRFirst sets how long the first QR code of a cycle stays valid before
// the page shows the next one. Default: DefaultQRFirst (60 s).
func WithQRFirst(d time.Duration) Option {
	return func(c *config) { c.qrFirst = d }
}

// WithQRRotate sets how long each QR code after the first stays valid; the
// data-ref attribute of the same element changes when it ends.
// Default: DefaultQRRotate (20 s).
func WithQRRotate(d time.Duration) Option {
	return func(c *config) { c.qrRotate = d }
}

// WithQRMaxRefreshes sets how many times the QR code changes in one cycle.
// When the last code ends, the page shows the button "Click to reload QR
// code". Default: DefaultQRMaxRefreshes (5).
func WithQRMaxRefreshes(n int) Option {
	return func(c *config) { c.qrMaxRefreshes = n }
}

// WithBootDelay sets how long the splash screen (#initial_startup) shows
// before the page shows the QR code or "Loading your chats".
// Default: DefaultBootDelay (1 s).
func WithBootDelay(d time.Duration) Option {
	return func(c *config) { c.bootDelay = d }
}

// WithLoadingDelay sets how long "Loading your chats" shows after a login or
// a boot with a stored session. Default: DefaultLoadingDelay (1 s).
func WithLoadingDelay(d time.Duration) Option {
	return func(c *config) { c.loadingDelay = d }
}

// WithStartingChatDelay sets how long the "Starting chat" modal shows before
// the chat or the invalid-number dialog opens.
// Default: DefaultStartingChatDelay (1 s).
func WithStartingChatDelay(d time.Duration) Option {
	return func(c *config) { c.startingDelay = d }
}

// WithTickDelays sets the delays of the status of an outgoing message. Each
// delay counts from the previous step: pending is how long the server takes
// to accept a message (the row shows msg-time and has no data-id yet), sent
// is how long after the acceptance the message becomes Sent (msg-check),
// delivered is how long after that it becomes Delivered (msg-dblcheck), and
// read is how long after that it becomes Read; a zero read means never.
// Default: DefaultPendingDelay (500 ms), DefaultSentDelay (1 s),
// DefaultDeliveredDelay (1 s) and DefaultReadDelay (0, never).
func WithTickDelays(pending, sent, delivered, read time.Duration) Option {
	return func(c *config) {
		c.pendingDelay, c.sentDelay, c.deliveredDelay, c.readDelay = pending, sent, delivered, read
	}
}

// WithRejectDelay sets how long after its Sent tick a message that the
// server rejects (RejectNext, RejectNextCapped, or a new chat under a
// timelock or the cap) loses its tick and shows the fail icon.
// Default: DefaultRejectDelay (1 s).
func WithRejectDelay(d time.Duration) Option {
	return func(c *config) { c.rejectDelay = d }
}

// WithIDStyle sets the style of the data-id attribute of message rows with
// MarkupClassic; Markup2026 always writes bare hashes.
// Default: DefaultIDStyle (IDStyleJID).
func WithIDStyle(s IDStyle) Option {
	return func(c *config) { c.idStyle = s }
}

// WithMarkup sets the build of WhatsApp Web whose markup the page renders.
// Default: DefaultMarkup (MarkupClassic).
func WithMarkup(m Markup) Option {
	return func(c *config) { c.markup = m }
}

// WithMinChromeMajor sets the lowest Chrome major version that the page
// accepts; a User-Agent with a lower "Chrome/NN" gets the unsupported-browser
// page. Zero turns the version check off. Default: DefaultMinChromeMajor (85).
func WithMinChromeMajor(n int) Option {
	return func(c *config) { c.minChrome = n }
}

// WithSeed seeds the generator of the obfuscated class names, so that two
// servers with the same seed render the same classes. Default: a random seed
// for each New.
func WithSeed(seed int64) Option {
	return func(c *config) { c.seed, c.seeded = seed, true }
}

// WithLogger sets the logger of the server. Default: a logger that discards
// everything.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l }
}

// WithAddr sets the address that Start listens on. A fixed port keeps the
// origin, and so the browser's localStorage, the same across servers.
// Default: DefaultAddr ("127.0.0.1:0", a free loopback port).
func WithAddr(addr string) Option {
	return func(c *config) { c.addr = addr }
}

// WithMediaLimits sets the largest attachments, in bytes, that the page
// sends: image for photos and videos, document for documents. A larger
// file chosen in the page gets the toast "1 image you tried adding is
// larger than the 16 MB limit." (or "1 video …", "1 document …") and no
// preview, and nothing is sent; the server refuses a larger upload too.
// Default: DefaultImageLimit (16 MiB) and DefaultDocumentLimit (100 MiB).
func WithMediaLimits(image, document int64) Option {
	return func(c *config) { c.imageLimit, c.documentLimit = image, document }
}
