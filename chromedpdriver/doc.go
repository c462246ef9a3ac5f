// Package chromedpdriver is the default wasend.BrowserPool: it runs
// WhatsApp Web in Chromium and drives it with chromedp through the page's
// own screens, the way a person would.
//
//	pool, err := chromedpdriver.New(chromedpdriver.WithProfileRoot("profiles"))
//	if err != nil { ... } // ErrNoBrowser: apt-get install -y chromium
//	defer pool.Close()
//	client, err := wasend.New(pool, queue, store, wasend.WithEventHandler(onEvent))
//
// New validates its options and starts nothing; Launch starts a session's
// browser and returns a *Session (a wasend.Session, and the optional
// SentFinder, Marker, PhonePairer, ResourceReporter, AckFollower,
// InboxReader, NumberChecker and MediaSender) as soon as WhatsApp Web is
// loading. chromedp ties a browser's life to the
// context of its first action; the driver hides that behind explicit calls:
// Launch creates, Session.Close closes gracefully, Pool.Close closes all.
//
// # Modes
//
// Persistent (the default) runs one Chrome process per session, with its
// own profile folder under the profile root (WithProfileRoot), so the login
// survives restarts: the session's system id is "persistent:<name>" and
// the folder is <root>/<name>. Ephemeral runs each session in its own
// in-memory profile (Chrome calls it a "browser context"; this package
// says "in-memory profile" so as not to mix it with wasend's browser
// contexts) of one Chrome that the pool shares: cheaper, but the login is lost when the session or the process
// ends; its system id is "ephemeral:<name>". A LaunchRequest with a system
// id resumes that session in the mode it names. A profile folder is opened
// by one session at a time: a second Launch gets ErrProfileInUse, and a
// SingletonLock left by a killed Chrome is removed only when no live
// process holds the folder.
//
// # Login and events
//
// A session's monitor reads the page every poll interval (WithPollInterval)
// while no call holds the page, and reports changes only, through
// LaunchRequest.OnEvent:
//
//   - wasend.EventQR with each QR payload and each refresh; render it with
//     QRPNG or QRTerminal. An expired code is reloaded ("Click to reload QR
//     code") up to WithQRReloadLimit times in a row;
//   - wasend.EventPairingCode with the code of a login by phone number
//     (Session.RequestPairingCode: the session is a wasend.PhonePairer, so
//     a host asks through wasend.Client.RequestPairingCode);
//   - wasend.EventStatus: ContextAvailable once logged in and the selector
//     self-test passed; ContextDisconnected with wasend.ErrLoggedOut (the
//     login page came back), wasend.ErrConflict (WhatsApp Web opened in
//     another window; with WithTakeoverOnConflict the session clicks "Use here"
//     instead) or wasend.ErrDisconnected (the browser died);
//     ContextError with wasend.ErrUnsupportedBrowser or wasend.ErrSelectors;
//   - wasend.EventAccount with the number the page is logged in as (E.164),
//     once the session is available and again when another account logs
//     in: the page's localStorage "last-wid-md" ("15550001111:3@c.us"), or
//     "last-wid" (the selector set's account_storage). Session.Account
//     returns the last one; telling the host that the account changed
//     (wasend.EventAccountChanged) is the Client's part.
//
// Session.State and Session.WaitReady expose the same to tests and
// quickstarts.
//
// # Restrictions
//
// The screens of whatsapp-web.md §10 have their own keys in the selector
// set, and give the root's typed errors:
//
//   - the full-screen temporary-ban dialog (temp_ban): StateRestricted and
//     EventStatus ContextRestricted with a *wasend.RestrictionError of
//     RestrictionTemporary: Code from the reason line (101–106, else 0),
//     Until now plus the time left it shows ("2 hours", "a day"), Reason
//     its first line with numbers masked. SendText returns it before
//     anything is clicked. When the dialog goes, ContextAvailable follows.
//   - the login page with the 403 banner "You have been logged out. To log
//     back in, you will need to verify your phone number."
//     (logged_out_banner): EventStatus ContextDisconnected with a
//     RestrictionBanned error whose Reason is the banner; SendText returns
//     it. The driver reports a ban as disconnected, not closed: closing the
//     context is the host's call.
//   - the Shortcake passkey overlay (passkey, by testid): StatePasskey and
//     ContextError with wasend.ErrPasskeyRequired; WaitReady returns it.
//   - the compose bar of the reach-out timelock or of the monthly cap on
//     new chats in the target chat (new_chat_block, new_chat_capped):
//     SendText returns a RestrictionNewChats error and sends nothing. It
//     clicks "Show details" / "See details" (restriction_details), reads
//     the end (the countdown "HH:MM:SS" or "N days", restriction_countdown;
//     the cap's "until {date}", restriction_modal) and closes the modal
//     (restriction_close); Until stays zero when it cannot. It is never
//     Unconfirmed. FindSent still reads such a chat.
//   - the fail icon on the sent row (send_failed, send_failed_capped),
//     seen while waiting for the tick or during WithRejectWatch after it:
//     an error wrapping wasend.ErrMessageRejected, not Unconfirmed, since
//     the message is known not delivered; the capped icon gives a
//     RestrictionNewChats error whose Err is ErrMessageRejected. FindSent
//     returns that error for a row with the fail icon instead of "found".
//
// # Sending
//
// SendText opens the chat inside the running app (history.pushState and a
// popstate event; a full load of /send?phone=<digits> only when the app is
// not loaded), waits through "Starting chat", and checks that the chat's
// header shows the number. An invalid number's dialog is dismissed and
// gives wasend.ErrNotOnWhatsApp, a permanent error. A number that WhatsApp
// opens under another one (Brazil's ninth digit, Mexico's "1"; see Number
// checks) gives wasend.ErrInvalidPhone once the other number's chat has
// stayed for two seconds: the message goes to the number CheckNumber
// gives as Canonical, never to another chat than asked. The text goes into the
// compose box as one synthetic paste (line breaks stay line breaks and
// never send), is read back and compared; if the box disagrees it is
// cleared and the text typed with the page's editing command
// (document.execCommand('insertText')), with Shift+Enter key events between
// lines; a second disagreement fails the send before anything left. The
// text is never put in a URL and never logged.
//
// With WithTyping (off by default) the text is typed instead, a few
// characters at a time at perChar each and within max in all, so that the
// contact sees "typing…" (the "composing" presence) for a time about
// proportional to the text's length before the click; a typed text that
// does not read back is pasted after all. It paces one message; the
// Client's pacing between messages is separate.
//
// The click on the send button (Enter, as a key down and up in the
// compose box, when there is no button or the click did nothing) is the
// point of no return: every failure after it is wrapped with
// wasend.Unconfirmed. Just before it, SendText calls wasend.BeforeSend
// once with a mark, compact JSON that names the outgoing rows already in
// the chat with the same text (their data-ids, at most the last ten) and
// the last outgoing row with an id; if the hook fails, nothing is clicked
// and its error is returned as it is. The send then waits for its new row,
// the one with the text that was not on the page before, to show a tick
// instead of the clock, and returns the row's data-id as the message id. A
// row still pending at the deadline gives a retryable wasend.ErrTimeout,
// or wasend.ErrPhoneOffline when the phone-offline banner shows.
//
// # Finding a sent message
//
// FindSent, the Client's duplicate-send guard, opens the chat the same way
// and looks for an outgoing row with the text. With the mark of the first
// attempt whose outcome is unknown, a row is the message only if it comes
// after the rows that the mark names and is not one of them, so an earlier
// message with the same text, even one sent in the same minute, does not
// count; rows without an id when the mark was made are counted, and rows
// that a long chat scrolled out of the DOM are no hindrance. Without a
// mark it is the last row whose time ("[HH:MM, M/D/YYYY] Me: ", minute
// resolution, page time zone) is at or after since truncated to the
// minute. A lookup that cannot answer (the chat does not open, its rows
// keep changing, a row with the text is neither recognized as outgoing nor
// as incoming) returns an error, never "not found"; only a number that is
// not on WhatsApp has no message without looking.
//
// SendText, FindSent, RequestPairingCode and the monitor touch the page one
// at a time, and all honour their ctx.
//
// # Media
//
// The session is a wasend.MediaSender: SendMedia checks the file (its
// kind, that it exists, wasend.MaxImageSize and MaxDocumentSize, an image
// type of wasend.ImageTypes, the caption's length; typed errors before
// anything is done), opens the chat as SendText does, clicks Attach and
// the menu item of the kind ("Photos & videos", "Document"), and sets the
// file on the page's hidden input with DOM.setFileInputFiles, as a file
// chooser would (the page's own click on the item cannot open a chooser,
// which needs a user gesture). The page names the file after its path, so
// a file whose MediaFile.Name is not its path's base name goes through a
// link of that name in a temporary folder. A file the page refuses (its
// toast: too large for its own limit, not supported, empty) gives
// wasend.ErrMediaTooLarge or wasend.ErrInvalidMedia and sends nothing;
// otherwise the caption goes into the preview's caption box (a paste,
// typed if the box does not read it back), and, after wasend.BeforeSend
// and its mark, the preview's Send is the point of no return, as the send
// button is for SendText: the row's tick confirms it, and failures after
// it are wrapped with wasend.Unconfirmed. FindSent finds a sent attachment
// (SentQuery.Media) by its kind, its caption and a document's file name.
//
// # Number checks
//
// The session is a wasend.NumberChecker: CheckNumber opens the number's
// chat by a click on a link to /send?phone=, which the app handles in
// place (whatsapp-web.md §10.7), waits through "Starting chat", and reads
// the answer: the chat with its compose box (on WhatsApp; when the header
// shows another number, WhatsApp opened the chat under it, as for
// Brazil's ninth digit or Mexico's "1", and that number is Canonical), a
// restriction's compose bar (on WhatsApp), or the "isn't on WhatsApp" or
// "invalid" dialog (not on WhatsApp; dismissed). Anything else is an
// error, never a negative answer. It types and sends nothing.
//
// # Receipts
//
// The session is a wasend.AckFollower: FollowAcks replaces the set of sent
// messages whose ticks it follows, and the session reports each change as
// a wasend.EventAck (MessageID, To, WAMessageID, Ack, At) until the
// message is read. Following costs no chat switch per message. The
// monitor's probe, one evaluation per poll, also reads the open chat's
// rows and the chat list, but only when the page changed since its last
// read: the page code keeps a MutationObserver that counts changes. A tick
// is read by its aria-label first, then by its icon's name, and the blue
// of status_blue tells read from delivered when only the icon is known
// (the 2026 icons and the chat list's). A message is read in the open
// chat (by its data-id, or by its text when it has none), or on the chat
// list when it is its chat's last message (the list's preview is its
// text); any other message waits for a visit of its chat: a click on the
// chat's row in the chat list (its link when the list does not show it),
// one chat per WithAckVisitInterval (30 s), the chat visited longest ago
// first. Visits run in the monitor and give way, between two evaluations,
// to any call that waits for the page, so following delays a send by one
// evaluation at most. FollowAcks documents how late a receipt can be.
//
// # Incoming messages
//
// The same reading notices incoming messages and reports each as a
// wasend.EventIncoming (From in E.164, Text, At from the row's
// data-pre-plain-text to the minute, WAMessageID the row's data-id), once
// per number and data-id. In the open chat, the incoming rows that come
// after its history settled (inboxSettle, a second after the chat panel
// appears) are new. On the chat list, an unread badge whose count grows
// queues a visit of its chat (one per inboxVisitGap, a second, before any
// visit for ticks, giving way to calls like those); there, as in any open
// chat, the last incoming rows that the badge counts are new. The sender
// is the number of a "false_<digits>@c.us_" data-id, else the chat's
// title; a saved contact's chat whose rows have bare ids names no number,
// and its messages are not reported. Nothing is marked read (see Focus):
// the session is a wasend.InboxReader, and MarkRead opens the chat, gives
// the page the emulated focus until the chat's unread badge goes, and
// takes it away again.
//
// # Focus
//
// WhatsApp Web marks the open chat's messages read only while its window
// is visible and has the focus (document.hasFocus()). The session's page
// never has it: Emulation.setFocusEmulationEnabled is off, and the driver
// clicks and types with the page's own events (pointer, mouse and key
// events, document.execCommand('insertText'), a paste) rather than with
// the browser's input (Input.dispatchMouseEvent, Input.insertText), which
// gives a headless page the focus for good. An ephemeral session's tab is
// opened without the focus (Target.createTarget with focus false), which
// a new tab of a running browser otherwise gets; a persistent session's
// first tab has none. So the chats the session opens, to send, to check a
// number or to visit, stay unread for the contact. MarkRead gives the
// page the emulated focus while it reads a chat on purpose.
//
// # Selectors
//
// Everything the driver reads or clicks comes from a SelectorSet: named,
// versioned, each key a list of selectors tried in order, loadable from
// JSON (LoadSelectors, ParseSelectors) and replaceable at run time
// (WithSelectors, Pool.SetSelectors, Session.SetSelectors). Selectors are
// CSS plus "text=…" and "CSS >> text=…" matches and an "@attr" suffix to
// read an attribute. On the main screen the session runs a self-test of the
// keys that must match there (logged_in, search_box, and the syntax of
// every entry); the first chat checks chat_panel, chat_title and compose.
// A set that fails puts the session in status error with a *SelectorError
// (wrapping wasend.ErrSelectors) that names the keys, instead of failing
// every job one by one. A page that shows none of the known screens for
// the navigation timeout fails the self-test too.
//
// The default set reads both the markup that bots used until 2025 and the
// mid-2026 one, in which rows have no message-out or message-in class and
// a bare-hash data-id, and ticks have no data-icon. It never relies on
// obfuscated classes: a row is outgoing when it has a "true_" data-id, the
// hidden speaker label "You:", the tail-out icon (first row of a run), or
// a tick with a status aria-label (" Pending ", " Sent ", " Delivered ",
// " Read "), and incoming by the matching signs ("false_", "{Name}:",
// tail-in). A tick is read by its aria-label first and by its icon names
// (data-icon, svg title: msg-check, wds-ic-delivered, wds-ic-read, …) only
// when the label is unknown, such as a localized one. Both texts of the
// unknown-number dialog are recognized: "Phone number shared via url is
// invalid." and "The number … isn't on WhatsApp.".
//
// # Proxy
//
// A LaunchRequest's Proxy (http://, https:// or socks5://, with an optional
// user:password@) sends the session's browser through that proxy: a
// persistent session's Chrome gets --proxy-server, an ephemeral session's
// browser context gets its own proxyServer, and both the bypass list
// "<-loopback>", so that even 127.0.0.1 goes through the proxy. The proxy
// is checked with wasend.CheckProxy and reached once before the browser
// starts (a TCP dial, or TLS for https, bounded to 5 s; with credentials,
// a CONNECT to WhatsApp Web's host for an http(s) proxy and the RFC 1929
// sub-negotiation for SOCKS5), so that a dead proxy or a wrong password
// fails Launch at once with an error wrapping wasend.ErrProxy, never a
// hang; a first page load that fails with a proxy's net error
// (ERR_PROXY_CONNECTION_FAILED, ERR_TUNNEL_CONNECTION_FAILED,
// ERR_SOCKS_CONNECTION_FAILED, …) does too. Later, a page load that ends
// on the browser's error page with such an error reports ContextError
// with ErrProxy (the monitor keeps reloading); other load errors report
// ContextDisconnected.
//
// An http(s) proxy's credentials answer its auth challenges through the
// DevTools Fetch domain (Fetch.enable with handleAuthRequests, then
// Fetch.continueWithAuth), once per request: a second challenge cancels
// the request. They are answered on the session's page; other targets of
// the browser (a service worker) rely on Chrome's proxy auth cache, which
// the page fills. Chrome cannot authenticate to a SOCKS5 proxy, so for
// socks5:// with credentials the session runs a relay on 127.0.0.1 that
// takes the browser's SOCKS5 without auth and speaks SOCKS5 with username
// and password to the proxy; it closes with the session. Logs and errors
// name the proxy as wasend.MaskProxy writes it, never with its
// credentials.
//
// # Health
//
// A lost connection to the browser, a renderer crash, or a hang (the
// watchdog asks the page to evaluate 1 every WithWatchdog interval) ends
// the session's browser: the session reports ContextDisconnected with
// wasend.ErrDisconnected, a send in flight returns wasend.ErrDisconnected
// at once (wrapped with Unconfirmed after the click), and the browser is
// relaunched with backoff (WithRelaunchBackoff) on the same profile. A
// killed Chrome may lose what it had not written yet, such as a login a
// few seconds old; the session then shows a QR code again.
// Session.Memory reports the memory of the session's browser (PSS, USS
// and the number of processes, summed over its process tree; Linux only).
//
// Browsers run headless (WithHeadless) with a desktop Chrome User-Agent
// derived from the installed browser's version, never HeadlessChrome, set
// both as a flag and through the DevTools protocol, and with
// --disable-blink-features=AutomationControlled; --no-sandbox is added
// only when running as root.
//
// # Logins that move between machines
//
// With WithProfileStore, a persistent session keeps its login in a
// wasend.ProfileStore too (profiledir for a shared folder, sqlstore's
// Store.Profiles for SQL), so that another process with another profile
// root takes it over without a QR code. A snapshot holds only what
// WhatsApp Web needs to stay logged in, as whatsapp-web.js's RemoteAuth
// keeps it: the profile's Default/Local Storage and the WhatsApp Web
// origin's Default/IndexedDB folders (no cookies, history or caches),
// without LevelDB's LOCK and LOG files, as a tar.gz with its SHA-256. A
// session saves one 10 s and 1 min after it became ready (Chrome writes
// Local Storage to disk a few seconds after the page; a snapshot taken at
// once after a login held no login, measured), so that a process killed
// soon after a login leaves one (not when it runs the stored login
// already: restored from it, or on a folder of that generation, as after
// a wake from hibernation), then every WithSnapshotInterval (10 min
// by default; the files are copied while Chrome runs, as RemoteAuth does,
// so such a copy may catch a write half done), and one at Close after
// Chrome has exited, whose files are whole. Launch of a session by its
// system id whose profile folder is missing or empty in this process
// restores the latest one before Chrome starts, into a temporary folder
// renamed into place. So does a folder older than the stored snapshot:
// the folder's wasend-snapshot-generation file names the generation it
// was saved as or restored from (a folder without one is compared by the
// time its login files were written), and a newer one in the store means
// another process used the login since, which a stale copy must not
// replay; a folder that a live browser holds is never replaced. A
// missing, corrupt or undecryptable snapshot is logged (no phone number,
// no content) and reported by Session.ProfileRestore, and the session
// shows a QR code. Generations follow the clock and never go back, and
// stores refuse an older generation, so a late save never replaces a newer
// login.
//
// A snapshot is a login: whoever holds it sends as the number. Seal the
// snapshots with WithProfileCipher (wasend.NewProfileCipher: AES-GCM
// bound to the system id) so that the store holds ciphertext only.
//
// # Debug folder
//
// With WithDebugDir (off by default), a step that times out, and a
// selector set that fails, leave a screenshot (.png) and the page's HTML
// (.html) in the debug folder, at most DefaultDebugMaxFiles files. They
// hold the whole page as shown, other people's chats and numbers included:
// turn them on only where such data may be kept. File names are the
// time, the system id and the step, such as
// 20260301T101530.123Z_persistent-3f2a_confirm.png; no message text and no
// phone number goes into a file name.
//
// # Environment variables
//
// WithEnv applies the Puppeteer variables that wasend.LoadEnv reads:
// PUPPETEER_HEADLESS (WithHeadless), PUPPETEER_WHATSAPP_URL (WithURL),
// PUPPETEER_DEFAULT_TIMEOUT (WithActionTimeout) and
// PUPPETEER_NAVIGATION_TIMEOUT (WithNavigationTimeout).
package chromedpdriver
