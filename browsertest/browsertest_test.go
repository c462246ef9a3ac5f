package browsertest_test

import (
	"testing"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/browsertest"
	"github.com/wasend/wasend/wasendtest"
)

const notOnWhatsApp = "+15559990000"

// scripted runs the suite against the scripted pool of wasendtest, built
// with opts.
func scripted(t *testing.T, login, finder bool, opts ...wasendtest.Option) {
	var pool *wasendtest.Pool
	o := browsertest.Options{
		Received: func(t *testing.T, s wasend.Session, to string) []string {
			var out []string
			for _, m := range pool.Session(s.SystemID()).Sent() {
				if m.To == to {
					out = append(out, m.Text)
				}
			}
			return out
		},
		NotOnWhatsApp: notOnWhatsApp,
		ConfirmPairing: func(t *testing.T, s wasend.Session, phone, code string) {
			if err := pool.Session(s.SystemID()).ConfirmPairingCode(code); err != nil {
				t.Fatal(err)
			}
		},
		SentFinder: finder,
		Marker:     finder,
	}
	if login {
		// The sessions wait for a scan: the test plays the phone.
		o.Login = func(t *testing.T, s wasend.Session, qr func() string) {
			if want := "2@scripted," + s.SystemID(); qr() != want {
				t.Fatalf("QR %q, want %q", qr(), want)
			}
			pool.Session(s.SystemID()).Login()
		}
	}
	browsertest.Run(t, func(t *testing.T) wasend.BrowserPool {
		pool = wasendtest.NewPool(append(opts, wasendtest.WithNotOnWhatsApp(notOnWhatsApp))...)
		return pool
	}, o)
}

func TestScriptedPool(t *testing.T) {
	scripted(t, false, true)
}

func TestScriptedPoolWithoutFinder(t *testing.T) {
	scripted(t, false, false, wasendtest.WithoutFinder())
}

func TestScriptedPoolWithLogin(t *testing.T) {
	scripted(t, true, true, wasendtest.WithAutoLogin(false), wasendtest.WithPairing(true))
}
