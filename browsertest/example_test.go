package browsertest_test

import (
	"testing"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/browsertest"
	"github.com/wasend/wasend/wasendtest"
)

// A driver's test runs the suite on its pool. Here the pool is the
// scripted one of wasendtest, whose sessions wait for a scan until the
// test plays the phone.
func Example() {
	testConformance := func(t *testing.T) {
		var pool *wasendtest.Pool
		browsertest.Run(t, func(t *testing.T) wasend.BrowserPool {
			pool = wasendtest.NewPool(wasendtest.WithAutoLogin(false),
				wasendtest.WithNotOnWhatsApp("+15559990000"))
			return pool
		}, browsertest.Options{
			// Log a session in: a real driver scans qr() with a test phone.
			Login: func(t *testing.T, s wasend.Session, qr func() string) {
				pool.Session(s.SystemID()).Login()
			},
			// What reached WhatsApp from the session's account.
			Received: func(t *testing.T, s wasend.Session, to string) []string {
				var texts []string
				for _, m := range pool.Session(s.SystemID()).Sent() {
					if m.To == to {
						texts = append(texts, m.Text)
					}
				}
				return texts
			},
			NotOnWhatsApp: "+15559990000",
			SentFinder:    true, // the sessions must implement it
		})
	}
	_ = testConformance
}
