package chromedpdriver

import (
	"errors"
	"fmt"

	"github.com/wasend/wasend"
)

// Errors of the driver. Errors about a send wrap the sentinels of package
// wasend instead (ErrNotOnWhatsApp, ErrTimeout, ...), so that the Client
// classifies them.
var (
	// ErrNoBrowser means no Chrome or Chromium was found. New returns it,
	// wrapped, when WithExecPath is not given and none of chromium,
	// chromium-browser, google-chrome and google-chrome-stable is in PATH.
	ErrNoBrowser = errors.New("chromedpdriver: no Chrome or Chromium found; install one " +
		"(Debian/Ubuntu: apt-get install -y chromium) or give its path with WithExecPath")
	// ErrProfileInUse means another session, in this process or in a live
	// browser process, has the profile folder open. It wraps
	// wasend.ErrContextHeld, so that a Client that cannot take a context
	// over because its previous holder's browser still runs leaves it
	// disconnected instead of in error.
	ErrProfileInUse = fmt.Errorf("chromedpdriver: profile folder already in use (%w)", wasend.ErrContextHeld)
	// ErrInvalidSystemID means a LaunchRequest's SystemID is not one that
	// this driver makes ("persistent:<name>" or "ephemeral:<name>").
	ErrInvalidSystemID = errors.New("chromedpdriver: invalid system id")
	// ErrLoggedIn means a login was requested for a session that is already
	// logged in.
	// It wraps wasend.ErrLoggedIn.
	ErrLoggedIn = fmt.Errorf("chromedpdriver: session already logged in (%w)", wasend.ErrLoggedIn)
	// ErrInvalidTracked means FollowAcks was given a message it cannot
	// follow: a MessageID that is not positive or is listed twice, or an
	// unknown ack. (A bad number gives wasend.ErrInvalidPhone.)
	ErrInvalidTracked = errors.New("chromedpdriver: invalid followed message")
)
