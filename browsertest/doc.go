// Package browsertest is the conformance suite of wasend.BrowserPool and
// its wasend.Session, with the optional interfaces the root defines
// (wasend.SentFinder, wasend.Marker, wasend.PhonePairer) and the
// wasend.SendTrace hook. Run checks that an implementation keeps the
// contract documented on those types, in the manner of testing/slogtest.
//
// The package imports only the standard library and wasend.
//
// # Use
//
//	func TestConformance(t *testing.T) {
//		browsertest.Run(t, func(t *testing.T) wasend.BrowserPool {
//			return newMyPool(t) // close it in t.Cleanup
//		}, browsertest.Options{
//			Login:    scanWithTestPhone,  // how a session is logged in
//			Received: receivedByNumber,   // what reached WhatsApp
//			NotOnWhatsApp: "+15559990000",
//		})
//	}
//
// The suite cannot know how a session logs in, nor see what reached
// WhatsApp: Options says. newPool is called once per subtest, and the
// suite closes every session it launches. Use a test WhatsApp (an
// imitation, as chromedpdriver's tests do, or test accounts): the suite
// sends messages.
//
// # What it checks
//
//   - Launch returns a session with a SystemID, a new one each time, and
//     its events (QR codes, status changes, pairing codes) reach
//     LaunchRequest.OnEvent with the session's SystemID and a time; the
//     session logs in (Options.Login) and reports ContextAvailable. A
//     wasend.ResourceReporter reports a positive size, or an error.
//   - SendText delivers each message exactly once, with its exact text:
//     new lines, emoji, accents, right-to-left scripts, markup-like text,
//     and spaces at both ends; two messages to one chat arrive in order.
//     The receipt has a SentAt, and SendTrace.BeforeSend is called at most
//     once per call.
//   - A number not on WhatsApp fails with an error that wraps
//     wasend.ErrNotOnWhatsApp, is permanent (wasend.Retryable is false),
//     and does not say that the session is gone; the session still sends.
//   - A ctx cancelled before the call gives an error that wraps
//     context.Canceled, and an expired deadline one of kind timeout
//     (wasend.ErrTimeout or context.DeadlineExceeded); both return
//     promptly and send nothing.
//   - Close is idempotent; after it, SendText fails with an error that
//     wraps wasend.ErrDisconnected and sends nothing, and FindSent fails.
//   - Close while a send is in flight (and SystemID meanwhile, from another
//     goroutine): both return, and the message arrives at most once, and
//     once if SendText reported success. Run the suite with -race.
//   - Launch by SystemID relaunches the same browser context: same
//     SystemID, same account.
//   - SentFinder (when implemented) finds a message that was sent, with
//     the receipt's MessageID, and reports "not found" without an error
//     for one never sent.
//   - Marker (when it marks): BeforeSend is called once per send with a
//     non-empty mark; a BeforeSend that fails stops the send and its
//     error comes back; FindSent finds a message with the mark taken
//     before it, and does not take it for a new one with a mark taken
//     when it was already there.
//   - PhonePairer (when implemented, on a session that is not logged in):
//     the code returned is also reported as an EventPairingCode, and with
//     Options.ConfirmPairing the session logs in and sends.
//
// Optional interfaces are detected by type assertion; the subtest of one
// that a session does not implement logs so and passes, unless Options
// requires it (SentFinder, Marker, PhonePairer).
//
// # Timing
//
// The suite waits for events, not for time: Options.Timeout only bounds a
// failure. What reached WhatsApp has no event, so Received is polled
// until the message arrives or the timeout ends.
package browsertest
