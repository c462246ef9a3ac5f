// Package wasendtest is the test kit for code that uses wasend. It imports
// only the standard library and package wasend.
//
// # Testing host code
//
// NewClient gives a test a real *wasend.Client, running on in-memory back
// ends, in one line; it is closed when the test ends:
//
//	kit := wasendtest.NewClient(t)
//	bc := kit.NewContext()                    // a logged-in browser context
//	job, err := kit.Send(ctx, bc.ID, "+447700900123", "hello")
//	done := kit.WaitJob(job.ID)               // waits for a final status, no sleep
//	sent := kit.Sent()                        // what reached WhatsApp
//
// The waits (WaitJob, WaitJobStatus, WaitContext) wake up on every change
// of the store and fail the test after a generous timeout
// (DefaultWaitTimeout) that only bounds a failure.
//
// Host code that depends on the wasend.Sender interface rather than on
// *wasend.Client can be given a FakeSender instead: it sends nothing,
// records every call, and returns the errors it is told to (Fail).
//
// # Back ends
//
// Store, Queue and Leaser are in-memory implementations of wasend.Store,
// wasend.Queue and wasend.Leaser that follow the same contracts as the SQL
// store and the Redis queue: they pass the same conformance suites. Each
// can be told to fail (SetFailure), as an unreachable database or Redis
// would; Queue.Lose drops what the queue holds, as a Redis restart without
// persistence would.
//
// Pool is a wasend.BrowserPool whose sessions are scripted. Every message
// that "reaches WhatsApp" is recorded (Pool.Sent, Session.Sent, Count), so
// that a test can prove that it arrived exactly once. The sessions of one
// system id share one account, as a relaunched browser sees the same chats.
// By default a session logs in at once (WithAutoLogin), can look in its
// chats (wasend.SentFinder, unless WithoutFinder), marks its sends
// (wasend.Marker, see SetMarks), and cannot pair by phone number
// (wasend.PhonePairer, unless WithPairing). It sends files
// (wasend.MediaSender, unless WithLegacySessions or WithoutFinder): the
// message that reaches WhatsApp records the file and the checksum of the
// bytes the session read (Sent.Media, Sent.MediaSHA256, CountMedia), and
// its lookup finds an attachment by kind and name or size, as
// wasend.SentQuery.Media asks.
//
// # Scripted faults
//
// Session.Script queues one Action per coming call of SendText or
// SendMedia; a call
// with no Action left succeeds, and a call whose ctx has ended before it
// starts fails with the ctx's error and sends nothing, as a real session
// does. The parts of an Action happen in this
// order: the wait before the click (Delay), the click, the wait after it
// (After), then Panic or Err. The faults a real session shows are spelled
// as follows.
//
//   - Fail: Action{Err: err}. Use ErrScripted for a retryable failure, or
//     wrap a wasend sentinel (wasend.ErrTimeout, wasend.ErrNotOnWhatsApp,
//     ...) for its meaning. Nothing reaches WhatsApp.
//   - Hang: Action{Block: true} waits until the ctx ends or
//     Session.Release is called; Action{Delay: d} is merely slow.
//   - Ignore ctx: add IgnoreCtx to Delay, After or Block, and the wait goes
//     on after the ctx ended, as a wedged browser would (the Client reports
//     wasend.ErrSessionHung and waits for the call to return).
//   - Panic: Action{Panic: v}.
//   - Click then fail: Action{Deliver: true, Err: err}. The message reaches
//     WhatsApp, then the call fails; the error is wrapped with
//     wasend.Unconfirmed, since the session had clicked.
//   - Deliver late: Action{Deliver: true, After: d} or Action{Deliver:
//     true, Block: true}: the message arrives, but the confirmation comes
//     late, or after the ctx ended (then the error is unconfirmed).
//   - Log out: Action{Logout: true} logs the session out at the start of
//     the call (a status event, disconnected, with wasend.ErrLoggedOut) and
//     the call fails with wasend.ErrLoggedOut. Session.Logout and
//     Session.Login do the same outside a send.
//   - Lose the message: Action{Lost: true}. The session clicks and reports
//     its mark, but the message never reaches WhatsApp.
//
// Session.ScriptFind scripts the lookups in the chat (FindSent) the same
// way: slow, hung, failing or panicking; an unscripted lookup answers the
// truth. SetNotOnWhatsApp (or the pool's WithNotOnWhatsApp) makes a number
// unknown to WhatsApp, and Pool.SetLaunchError makes launches fail.
//
// # What comes back
//
// Session.Receive plays a contact who writes to the session's account:
// the session reports a wasend.EventIncoming (the same WhatsApp id again
// reports the same row again); Session.Report reports any event as it is,
// for the tests of a page that reports something wrong. Sessions mark
// chats read (wasend.InboxReader: Reads, SetMarkReadError) and follow
// acks (wasend.AckFollower: Followed, FollowCalls, SetFollowError,
// SetFollowBlock); Session.Ack plays a new tick. Sessions check numbers
// (wasend.NumberChecker: ScriptCheck, Checks), answering from
// SetNotOnWhatsApp and the pool's SetCanonical, which also makes a message
// to the number asked reach the chat of the canonical one, as WhatsApp
// Web's links do. The Store keeps receipts
// (wasend.ReceiptStore), a suppression list (wasend.SuppressionStore),
// an inbox (wasend.InboxStore) and a number cache (wasend.NumberStore). WithLegacySessions makes sessions without what
// they gained in issue 14.
//
// # Observing a session
//
// Session.Calls, Active and MaxConcurrent count the calls of SendText;
// Queries returns the lookups' queries; Closed reports whether the Client
// closed the session.
package wasendtest
