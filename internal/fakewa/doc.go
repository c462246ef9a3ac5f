// Package fakewa is a local imitation of web.whatsapp.com for tests.
//
// A Server is an http.Handler that serves a hand-written page which renders
// the DOM that WhatsApp Web bots rely on (the selectors, attributes, texts
// and timings of the project spec shared/whatsapp-web.md), the "WhatsApp servers" the
// page talks to, and the phone. Test hooks play the phone (scan a QR code,
// log out, go offline) and an oracle records every message the server
// received, byte for byte. A browser driver that passes against this page
// should pass against the real one; where the fake had to guess, it errs on
// the strict side.
//
//	s := fakewa.New(fakewa.WithBootDelay(50*time.Millisecond))
//	base, err := s.Start() // http://127.0.0.1:<port>
//	defer s.Close()
//	// Chromium: navigate to base+"/send?phone=15551234567&text=hi",
//	// read canvas.closest('[data-ref]').dataset.ref, then:
//	err = s.Scan(ctx, ref, "15550001111")
//	// … click button[aria-label='Send'] …
//	msgs := s.Received("15550001111", "15551234567")
//
// The server is safe for concurrent use by many browsers, profiles and tabs.
// Every page load makes a client ID; a tab keeps a tab ID in sessionStorage;
// a browser profile keeps its login token in localStorage and IndexedDB.
//
// # Page states
//
// The page goes through these states; Sessions reports them as PageState.
//
// BOOT (PageBoot), for WithBootDelay: body.web > #app > #initial_startup
// with .graphic, .progress > progress, .main ("WhatsApp") and .secondary
// (span[data-icon='lock-small'] and "End-to-end encrypted").
//
// UNSUPPORTED (PageUnsupported): a User-Agent that matches
// HeadlessChrome|Electron|QtWebEngine|^WhatsApp/ or has a "Chrome/NN" below
// WithMinChromeMajor gets "WhatsApp works with Google Chrome NN+" with
// a[href='https://support.google.com/chrome/answer/95414']. The server
// decides from the request's User-Agent and the script again from
// navigator.userAgent, so a CDP override of either is checked.
// SupportedUserAgent is the rule.
//
// QR (PageQR): .landing-wrapper > .landing-header > .landing-headerTitle
// ("WhatsApp Web"), .landing-window > .landing-main with .landing-title
// "To use WhatsApp on your computer:", an ol of four li steps, and
//
//	<div data-testid="qrcode" data-ref="2@…,…,…,…"><span></span>
//	  <canvas aria-label="Scan this QR code to link a device!" role="img" width="264" height="264"></canvas></div>
//
// The canvas shows a pattern drawn from the payload, not a real QR code.
// The data-ref attribute of the same element changes after WithQRFirst and
// then every WithQRRotate; after WithQRMaxRefreshes changes the last code
// expires and div[data-ref] > span > button ("Click to reload QR code")
// appears; a click starts a new cycle. The links "Need help to get
// started?" and the button "Link with phone number" follow.
//
// PAIRING (PagePairing): after "Link with phone number", an input labelled
// "Type your phone number." (it starts with "+") and a button "Next"; then
// div[aria-details='link-device-phone-number-code-screen-instructions']
// with data-link-code="A,B,C,D,E,F,G,H" (eight characters joined with
// commas, as the real page renders the array) and "Link with QR code".
// ConfirmPairingCode completes the login.
//
// LOADING (PageLoading), for WithLoadingDelay after a scan or a boot with a
// stored login: #app > div > div > [div.graphic, div[role='progressbar']
// [aria-label='Loading your chats'] > progress, div "Loading your chats
// [NN%]", div "Don't close this window. Your messages are downloading."].
// The XPath //*[@id='app']/div/div/div[2]/progress of whatsapp-web.js
// finds the bar.
//
// MAIN (PageMain): #app > .app-wrapper-web > .two[tabindex='-1'] holding
// header[data-testid='chatlist-header'] (buttons [aria-label='New chat'] and
// [aria-label='Menu']), #side with the banners, the search
// input[data-tab='3'][aria-label='Search or start a new chat']
// [data-testid='chat-list-search'], #pane-side > div[data-tab='4'] >
// [data-testid='chat-list'] > div[aria-label='Chat list'][role='grid'] with
// one div[role='row'] > [data-testid='cell-frame-container'] >
// [role='gridcell'] > span[dir='auto'][title='+<digits>'] per chat (see
// "Chat list" below), and, with no chat open, the intro pane
// ([data-testid='intro-md-beta-logo-light'], h1[data-testid='intro-title']
// "WhatsApp Web", [data-testid='intro-text']).
//
// STARTING CHAT, for WithStartingChatDelay after a /send link:
// div[data-animate-modal-popup='true'][aria-label='Starting chat'] >
// div[data-animate-modal-body='true'] > h1 "Starting chat" and
// svg[role='status'], and a "Cancel" button. While it shows, a chat opened
// before stays in the DOM behind it, so a driver must check
// #main header span[title] before it types.
//
// CHAT OPEN: #main > header with span[dir='auto'][title='+<digits>'] first,
// then div[data-testid='conversation-panel-wrapper'] holding the message
// list (div[role='application']) and the footer with the compose box (see
// below). A chat opened by a link holds the link's text. The modal goes
// and the chat appears in the same task, so that no driver can find the
// previous chat's compose box in between. The number in the header is the
// one WhatsApp's check returned (see "Number checks"). Escape closes the
// chat (the intro pane shows) when no dialog, menu or drawer is open
// (inferred).
//
// INVALID NUMBER: a phone parameter that is not 6 to 15 ASCII digits (a "+"
// or a space included), or a number marked with SetNotOnWhatsApp, gets
//
//	<div role="dialog"><div data-animate-modal-popup="true" aria-label="Phone number shared via url is invalid.">
//	  <div data-animate-modal-body="true"><div>Phone number shared via url is invalid.</div></div>
//	  <div role="button" data-testid="popup-controls-ok">OK</div></div></div>
//
// OK closes it; MAIN shows no chat.
//
// CONFLICT (PageConflict): a div[role='dialog'] with the text
// `WhatsApp is open in another window. Click "Use Here" to use WhatsApp in
// this window.` and the buttons "Close" ([data-testid='popup-controls-cancel'],
// window.close()) and "Use here" ([data-testid='popup-controls-ok']). It
// shows in a page whose login another window took: a second tab of the same
// profile gets it when it boots (the first keeps the login), and every page
// of an account gets it after Conflict. "Use here" takes the login back and
// the other page shows the dialog. Behind the dialog nothing can be sent.
//
// BANNERS: at the top of #side, [data-testid='alert-phone'] ("Phone not
// connected", "Make sure your phone has an active internet connection.",
// "Trying to reach phone") while SetPhoneOnline is false, and
// [data-testid='alert-computer'] ("Computer not connected", "Make sure your
// computer has an active Internet connection.") while the page's WebSocket
// is down.
//
// LOGGED OUT: after Logout the page clears its login storage, sets
// localStorage "old-logout-cred", replaces its URL with
// /?post_logout=1&logout_reason=0 and shows a new QR code (PageQR with
// Session.LoggedOut).
//
// Every element also carries random class names such as "x1n2onr6 _ak1i",
// different for each New (WithSeed fixes them). The semantic classes above
// (message-out, selectable-text, copyable-text, lexical-rich-text-input,
// landing-*, two, app-wrapper-web, …) are stable, except those that the
// 2026 markup drops (below).
//
// # Opening a chat inside the app
//
// A full navigation to /send?phone=<digits>&text=<urlencoded> (also /send/,
// with type=phone_number and app_absent ignored) boots the app, waits for a
// login if needed, and then runs STARTING CHAT. Without a reload, the app
// reacts to popstate, as the real router does:
//
//	window.history.pushState({}, '', '/send?phone=15551234567&text=hi');
//	window.dispatchEvent(new PopStateEvent('popstate'));
//
// pushState alone does nothing. A click on an <a href> to /send?phone=…
// (also /send/) of this origin or of https://web.whatsapp.com is handled
// the same way in the app, without a reload, as the real app does with
// such links (whatsapp-web.md §10.7): a driver may inject one and click it.
// A link consumed this way is replaced with "/". A link that arrives while
// the page shows the QR code, loads or shows the conflict dialog runs when
// MAIN is reached. Two more ways open a chat: a click on a row of the chat
// list (no modal; the chat's history shows), and a number typed into the
// search box followed by Enter (with the modal and the invalid-number
// check).
//
// # Compose box
//
//	<footer><div class="lexical-rich-text-input"><div contenteditable="true" role="textbox"
//	  data-lexical-editor="true" tabindex="10" data-tab="10" aria-owns="emoji-suggestion"
//	  aria-label="Type a message" aria-placeholder="Type a message">
//	  <p class="selectable-text copyable-text"><span data-lexical-text="true">text</span></p></div></div>…</footer>
//
// Each line is a <p> (an empty line holds a <br>); the text is the lines
// joined with "\n". It accepts key events (chromedp SendKeys,
// Input.dispatchKeyEvent), Input.insertText, document.execCommand('insertText')
// and a synthetic ClipboardEvent('paste') whose DataTransfer holds
// text/plain. Enter sends and Shift+Enter starts a new line; both are
// handled on keydown with the default canceled, as Lexical does. A CDP
// "char" event after the keyDown is a key press of its own, so chromedp's
// SendKeys("\n") or KeyEvent(kb.Enter) sends and then leaves a line break in
// the box, which the next message carries; send Enter as a rawKeyDown and a
// keyUp with no text instead. Pasted "\r\n" becomes "\n". Text is never
// parsed as HTML and is sent untrimmed. Key events cannot type format
// characters such as the ZWJ of emoji sequences (chromedp drops runes that
// unicode.IsPrint rejects); use Input.insertText or paste for those.
//
// button[aria-label='Send'] > span[data-icon='wds-ic-send-filled'] exists only
// while the box holds non-blank text; otherwise
// button[aria-label='Voice message'] > span[data-icon='ptt'] takes its place.
// After a send the box is empty. Blank text is never sent.
//
// # Outgoing rows and ticks
//
// A send appends, inside #main [data-testid='conversation-panel-wrapper'],
//
//	<div role="row"><div tabindex="-1" data-id="true_<to>@c.us_<ID>">
//	  <div class="message-out focusable-list-item …">
//	    <span data-icon="tail-out"><svg>…</svg></span>
//	    <div>
//	      <div class="copyable-text" data-pre-plain-text="[HH:MM, M/D/YYYY] Me: ">
//	        <div><span dir="auto" class="selectable-text copyable-text"><span>text</span></span></div></div>
//	      <div><span dir="auto">HH:MM</span>
//	        <div><span aria-hidden="false" data-icon="msg-time" data-testid="msg-time" aria-label=" Pending ">
//	          <svg viewBox="0 0 16 15" height="15" width="16"><title>msg-time</title><path/></svg></span></div></div>
//	    </div></div></div></div>
//
// The page POSTs each message once. The data-id attribute appears when the
// server accepts the message, after the pending delay of WithTickDelays; with
// IDStyleHash it is the bare ID, 32 hex digits. Later the icon becomes
// msg-check " Sent ", msg-dblcheck " Delivered " and, with a read delay,
// msg-dblcheck " Read " with fill #53bdeb and the blue class x1rv0e52. A
// row whose POST fails stays Pending. Reopening a chat shows its earlier
// messages with their status.
//
// Tests move the ticks with three hooks. SetNeverDeliver(phone, to, true)
// keeps every message from phone to to (or to every recipient with
// AllAccounts) at one tick " Sent " for good, as for a contact who blocked
// the account (§10.4); false lets them go on to Delivered.
// ReadBy(phone, contact) plays the contact reading the chat: each message
// of the chat at Sent or Delivered (not held by SetNeverDeliver, not
// rejected) becomes " Read " at once, and it returns their IDs.
// SetMessageStatus(id, st) moves one message forward to StatusSent,
// StatusDelivered or StatusRead (ErrInvalidStatus for a step back, another
// status or a rejected message; ErrUnknownMessage for an ID the server has
// not received). The rows and the chat list follow within milliseconds.
//
// An incoming message (the Incoming hook) is the same row with
// div.message-in, span[data-icon='tail-in'], no tick, a data-id of
// "false_<from>@c.us_<ID>" (or the bare ID) and a data-pre-plain-text that
// ends in "+<from>: ". It shows at once in an open chat with from.
//
// # The 2026 markup
//
// WithMarkup(Markup2026) renders the rows, ticks and dialogs of mid-2026
// builds (whatsapp-web.md §10.4 to §10.6) instead:
//
//	<div role="row"><div tabindex="-1" data-id="<ID, 32 hex digits>">
//	  <div class="x…">
//	    <span data-icon="tail-out"><svg>…</svg></span>          (first row of a run only)
//	    <div class="x…">
//	      <span aria-label="You:" style="position:absolute;…"></span>   ("+1 555-765-4321:" when incoming)
//	      <div class="copyable-text" data-pre-plain-text="[HH:MM, M/D/YYYY] Me: ">
//	        <div><span dir="auto" class="selectable-text copyable-text"><span>text</span></span></div></div>
//	      <div><span dir="auto">HH:MM</span>
//	        <div><span aria-hidden="false" aria-label=" Sent "><svg><title>wds-ic-delivered</title>…</svg></span></div></div>
//	    </div></div></div></div>
//
// No message-out, message-in or other semantic class marks the direction,
// which shows only in the hidden speaker label and the tail (tail-in for
// incoming rows). The tick has no data-icon and no testid: " Pending " is
// titled wds-ic-status-pending, " Sent " (one tick) wds-ic-delivered (sic),
// " Delivered " and " Read " wds-ic-read, and " Read " adds the blue class
// x1rv0e52. WDS icons elsewhere (the send button's wds-ic-send-filled, the
// chat list's ic-schedule, wds-ic-delivered and wds-ic-read, with no
// aria-label) have no data-icon either. An unknown number gets
//
//	<div role="dialog" aria-modal="true"><div data-animate-modal-popup="true">
//	  <div data-animate-modal-body="true"><div>The number +1 555-999-0000 isn't on WhatsApp.</div></div>
//	  <div><button>OK</button></div></div></div>
//
// with the number formatted "+1 NNN-NNN-NNNN" for North America and
// "+<digits>" otherwise. Everything else is as above.
//
// # Chat list
//
// Each row of div[aria-label='Chat list'][role='grid'] in #pane-side is a
// div[role='row'] whose [role='gridcell'] holds a title line
// (span[dir='auto'][title='+<digits>'] and the time HH:MM) and a line with the tick
// icon of the last message when it is ours, the preview
// (span[dir='auto'][title=<text>] holding the text, the caption, "Photo",
// "Video" or a document's file name) and the unread badge. Rows are
// sorted by their last message, newest first, and updated in place.
//
// The tick icon has no aria-label. In the classic markup it is
// span[data-icon] status-time (pending), status-check (sent) or
// status-dblcheck (delivered, read); in the 2026 markup
// (WAWebChatMsgAck) it has no data-icon and its svg <title> is
// ic-schedule, wds-ic-delivered (sent) or wds-ic-read (delivered, read).
// Read adds the blue class x1rv0e52 in both. A failed or incoming last
// message has no icon.
//
// A chat with unread incoming messages has the badge (WAWebUnreadCount)
//
//	<span aria-label="2 unread messages" data-testid="icon-unread-count">2</span>
//
// ("1 unread message" for one), and the title line carries a hidden span
// with the same text before the name, so that its textContent reads
// "2 unread messages+15551234567…" as on the real page (§10.6); read the
// name from span[title]. The open chat shows no badge while the page may
// read it (below). When a chat with unread messages opens, a
// div[data-unread-divider] > span "2 unread messages" (not a [role=row])
// precedes the first unread row (inferred markup).
//
// # Read receipts
//
// WhatsApp sends read receipts (the contact's blue ticks) only for a chat
// that is open while its window is visible and focused. The page follows
// that rule: it marks the incoming rows of the open chat read (POST
// /__wa/read with their IDs) when the chat opens, when an incoming row
// shows in it, on the window's focus event and on visibilitychange, each
// time only if document.visibilityState === 'visible' &&
// document.hasFocus(). The badge then goes on every page of the account.
// ReadByAccount(phone, from) lists the IDs the account read, oldest first;
// UnreadByAccount(phone, from) the others. Nothing else marks a message
// read: not the chat list, not a chat opened without focus.
//
// Measured in headless Chromium 156 under chromedp
// (TestBrowserIncomingReadState): the first tab of a new browser is visible but
// document.hasFocus() is false until its first input event (a CDP mouse
// click, key event or Input.insertText); then it is true for good, across
// navigations. A tab that chromedp creates later has focus at once, and so
// has a tab after Page.bringToFront. Emulation.setFocusEmulationEnabled
// (true) makes hasFocus() true (and keeps the page visible); false goes
// back to the real state, so it cannot take focus away. window.blur()
// does nothing. Browser.setWindowBounds with windowState "minimized"
// makes the page hidden (visibilityState "hidden", hasFocus() false, a
// blur event); input events then give focus but the page stays hidden;
// "normal" makes it visible again (visibilitychange).
//
// So a driver reads rows without sending read receipts, in a way the real
// page honours too, by one of:
//
//   - reading the chat list only: the preview and the badge;
//   - minimizing the window (Browser.getWindowForTarget, then
//     Browser.setWindowBounds windowState "minimized") before it opens the
//     chat, reading #main [role='row'], and closing the chat (Escape, or
//     another chat) before it restores the window: restored with the chat
//     still open, the page reads it;
//   - opening the chat before any input event in a new browser's first
//     tab (fragile: one click gives focus).
//
// Any click, key or text input into a visible page with the chat open
// reads the chat, as on the real page.
//
// # Attachments
//
// The footer holds, always and whether the menu is open or not, the
// Attach button and two hidden inputs (whatsapp-web.md §5, 2024–26):
//
//	<button aria-label="Attach" title="Attach" aria-expanded="false"><span data-icon="plus-rounded">…</span></button>
//	<input type="file" accept="image/*,video/mp4,video/3gpp,video/quicktime" style="display:none">
//	<input type="file" accept="*" style="display:none">
//
// A click on Attach opens div[role='menu'] with button[role='menuitem']
// [aria-label='Document'] and [aria-label='Photos & videos'], each a
// click on its input (which opens the browser's file chooser); a second
// click, a click elsewhere or Escape closes it. A driver sets the file on
// the input (chromedp.SetUploadFiles, DOM.setFileInputFiles, or after
// Page.setInterceptFileChooserDialog and the menu item); the change event
// takes files[0]. Through "Photos & videos" an image/* file is an image
// and a video/* file a video; any other type gets the toast "1 file you
// tried adding is not supported." Through "Document" any file is a
// document. An empty file gets "1 image you tried adding has no
// content." (video, document), and a file above WithMediaLimits gets
// "1 image you tried adding is larger than the 16 MB limit." ("1 video
// …", "1 document … 100 MB …"; the real app's texts, sizes as
// WAWebL10nFilesize writes them: "64 kB", "16 MB"). A toast is
// div[role='alert'] inside div[aria-live='polite'] at the bottom of the
// app and goes after 5 s (inferred markup); nothing opens and nothing is
// sent. A file that passes opens, over the app (not inside #main), the
// preview:
//
//	<div role="dialog" aria-modal="true">
//	  <div role="button" aria-label="Close">…</div> <span dir="auto" title="<file name>"><file name></span>
//	  <img src="blob:…"> | <video src="blob:…"> | the document card (below)
//	  <div class="lexical-rich-text-input"><div contenteditable="true" role="textbox" data-lexical-editor="true"
//	    aria-label="Add a caption" aria-placeholder="Add a caption"><p class="selectable-text copyable-text">…</p></div></div>
//	  <div role="button" aria-label="Send" title="Send"><span data-icon="wds-ic-send-filled"><svg><title>wds-ic-send-filled</title>…</svg></span></div>
//	</div>
//
// (the 2026 markup drops the send icon's data-icon, as for every WDS
// icon). The caption box is the compose box's editor (every input method
// above, Shift+Enter for a new line) without its data-tab, so the compose
// selectors do not match it. Send, or Enter in the caption box, sends
// once; Close or Escape drops the file. The page reads the File and POSTs
// its bytes to /__wa/media, with the name, MIME type (File.type) and
// caption in the query as UTF-8, so they arrive byte for byte; a blank
// caption is sent as none. The row shows at once, Pending while the bytes
// upload, then takes its data-id and ticks like a text message. In its
// bubble, before the text block:
//
//	image:    <div data-testid="image-thumb" role="button" aria-label="Open picture"><img src="…"></div>
//	video:    <div data-testid="video-thumb" role="button" aria-label="Play video"><span data-icon="media-play">…</span></div>
//	document: <div data-testid="document-thumb" role="button" title='Download "<name>"'>
//	            <span data-icon="audio-file">…</span>
//	            <div><span dir="auto" title="<name>"><name></span>
//	              <div><span title="PDF">PDF</span> • <span title="3 kB">3 kB</span></div></div></div>
//
// The type is the name's extension in upper case (else the MIME subtype,
// else FILE) and the size as in the toasts. The caption is the row's
// .copyable-text[data-pre-plain-text] > … > span.selectable-text text, as
// for a text message; without a caption the row has no text block and no
// data-pre-plain-text. Reopened, an image's thumbnail comes from GET
// /__wa/media?id=<ID>&cid=<client>. The testids image-thumb and
// document-thumb are named by the facts file; video-thumb, the aria-labels,
// the icon names and the card's inner markup are inferred.
//
// The oracle records the attachment in Message.Media: Kind (MediaImage,
// MediaVideo, MediaDocument), FileName (File.name, the base name of the
// path given to DOM.setFileInputFiles), MIMEType (File.type, or from the
// name's extension, else application/octet-stream), Size and SHA256 (hex)
// of the bytes received; Text is the caption. A text message has a nil
// Media.
//
// # Number checks
//
// The check of whatsapp-web.md §10.7 is a /send?phone= navigation or an
// in-app link click: "Starting chat", then the chat's composer, or the
// invalid-number dialog ("The number … isn't on WhatsApp." in the 2026
// markup, "Phone number shared via url is invalid." in the classic one)
// for a number marked with SetNotOnWhatsApp or malformed. WhatsApp's check
// answers with the number of the account's chat, and the app uses it:
// SetCanonicalNumber(typed, canonical) makes opening typed open the chat of
// canonical (Brazil's ninth digit 5511987654321 → 551187654321, Mexico's
// 5215512345678 → 525512345678, Argentina's 541112345678 → 5491112345678),
// whose header span[title] is "+<canonical>" and whose messages are
// recorded To canonical. A number whose canonical number is marked
// SetNotOnWhatsApp is not on WhatsApp. A restricted compose bar (see
// "Restrictions") means the number exists but the chat cannot start.
//
// # Account number
//
// The page stores the account's number the way WhatsApp Web does, in
// localStorage "last-wid-md" as a JSON string "<digits>:<device>@c.us":
// the stored value is "15550001111:1@c.us" with its double quotes, so
// JSON.parse(v).split(':')[0] is the number. The key is read by many
// public bots and by WA's own WAWebLocalStorage code; the value's shape
// is inferred from bots that split it on ":" and "@". "last-wid" holds
// "<digits>@c.us" the same way. The device number counts the account's
// links from 1. The Profile button of
// the chat list header (header[data-testid='chatlist-header']
// [role='button'][title='Profile']) opens the profile drawer over the
// chat list:
//
//	<div role="region" aria-label="Profile">
//	  <header><div role="button" aria-label="Back">…</div><h1 title="Profile">Profile</h1></header>
//	  … <div>Phone</div><span dir="auto" title="+1 555-000-1111" class="selectable-text copyable-text">+1 555-000-1111</span>
//
// with the number formatted as in the 2026 dialog (inferred markup; Back
// or Escape closes it). After a logout, a scan of the same profile's QR
// code by another phone rewrites both keys and the drawer.
//
// # Login storage
//
// On a login the page writes localStorage "last-wid-md" (JSON string
// "<digits>:<device>@c.us"), "last-wid" ("<digits>@c.us"), placeholders
// for "WebEncKeySalt" and "WANoiseInfo", its login token under
// "fakewa-login-token", and a row "me" in the object store "user" of the
// IndexedDB database "wawc". At boot it sends the token to the server when
// both stores agree; a valid token skips the QR code, so a Chromium restarted
// on the same --user-data-dir reaches MAIN without one. Storage is per
// origin: use the same Server (WithAddr keeps a port) for a restart test.
//
// # Finding the QR payload of a page
//
// Read it as a driver does: canvas.closest('[data-ref]').dataset.ref, then
// call Scan with it. Scan returns when the page has stored the login. Server
// side, PendingQRs lists the codes connected pages show (with their client
// ID and User-Agent), Sessions shows QRRef per page, and ScanAny scans the
// only page that shows a code.
//
// # Endpoints
//
// GET on any other path serves the page. The page's own endpoints, the
// "WhatsApp servers", live under /__wa/ and need no token: GET /__wa/ws (the
// WebSocket that pushes auth, qr, qr-expired, linked, logout, conflict,
// phone, msg, ack, read, restrict and passkey events, and takes presence),
// POST /__wa/state, /__wa/linked, /__wa/qr/reload, /__wa/pair,
// /__wa/takeover, /__wa/send, /__wa/read and /__wa/media, and GET
// /__wa/contact, /__wa/chats, /__wa/chat and /__wa/media. They act only for
// a client ID that the server knows from the page's WebSocket, and only for
// its login.
//
// # Restrictions
//
// The hooks of restrict.go play the account states of whatsapp-web.md §10:
//
//   - TemporaryBan(phone, code, d): the full-screen ConfirmPopup of
//     WAWebTempBanScreen (div[role=dialog][aria-modal=true] >
//     [data-animate-modal-popup] > [data-animate-modal-body], with
//     [data-testid=popup-contents] in the classic markup): the line of
//     reason code 101–106 (or the default), "You'll be able to use
//     WhatsApp again in {duration}" humanized as moment does ("2 hours",
//     "a day"), and "Log out" / "Learn more". Sessions reports
//     PageTempBan; /__wa/send refuses; LiftTemporaryBan goes back to the
//     app.
//   - Timelock(phone, until, enforcement) and CapNewChats(phone, used,
//     total, until): in a new chat (no message exchanged with the number,
//     a rejected one not counting) the footer holds the restricted compose
//     bar and no contenteditable: "Your account is restricted. You can't
//     start new chats right now. Show details" (testid
//     reachout-timelock-compose-bar in the 2026 markup only) or "You've
//     reached the monthly limit on new chats you can start. See details".
//     The link (span[role=button]) opens the modal, with the countdown
//     "HH:MM:SS" (up to 24 hours, else "N days") or "You've started {used}
//     of {total} new chats this month" and "…until {January 2, 2006}.".
//     Chats that exist keep their composer.
//   - RejectNext(phone, to) and RejectNextCapped: the next message to to
//     gets Pending and Sent, then after WithRejectDelay loses its tick and
//     gets div[role=button][aria-label="Something went wrong. Click to
//     learn more."] (or the capped label with U+2019 apostrophes); a click
//     opens "Your message was not sent.". Such a message, or one that a
//     page pushes into a new chat under a timelock or cap, is listed by
//     Rejected, not Received, and MessageStatus reports StatusFailed.
//   - Ban(phone): a logout to the QR screen whose landing shows the amber
//     403 banner (span[data-icon=warning-outline] and
//     LoggedOutBannerText).
//   - RequirePasskey(phone, on): a scan for phone shows the Shortcake
//     overlay (testids shortcake_passkey_screen,
//     shortcake_passkey_prompt_card, shortcake_passkey_continue_button,
//     shortcake_cancel_button) instead of logging in, and returns
//     ErrPasskeyRequired; Sessions reports PagePasskey.
//
// # Presence
//
// The page sends {"type":"presence","state":"composing"} over its
// WebSocket when the compose box of a chat first changes, and "paused"
// after three seconds without a change or when the chat closes; a send
// ends the span. TypingSpans(from, to) lists the spans the server saw, with
// their durations: what the contact saw as "typing…".
//
// # Hooks
//
// The hooks are methods of Server: Scan, ScanAny, PendingQRs,
// ConfirmPairingCode, Logout, SetNotOnWhatsApp, SetCanonicalNumber,
// Conflict, SetPhoneOnline, SetStuckPending, SetNeverDeliver, ReadBy,
// SetMessageStatus, Incoming, ReadByAccount, UnreadByAccount, Received,
// AllReceived, Reset, MessageStatus, Sessions, the restriction hooks above,
// Rejected and TypingSpans (over HTTP: POST /__fake/restrict with an
// action, GET /__fake/rejected and /__fake/typing). The ticks, read
// receipts and number-check hooks have these endpoints (HookClient has a
// method of the same name for each):
//
//	POST /__fake/never-deliver      {"phone","to","never"}      → 204
//	POST /__fake/read-by            {"phone","contact"}         → ["<ID>",…]
//	POST /__fake/message-status     {"id","status":"read"}      → 204, or 404 unknown_message, 409 invalid_status
//	POST /__fake/canonical-number   {"typed","canonical"}       → 204, or 400 invalid_phone
//	GET  /__fake/read-by-account?phone=&from=                   → ["<ID>",…]
//	GET  /__fake/unread-by-account?phone=&from=                 → ["<ID>",…]
//
// and GET /__fake/received answers Message with its "media" object.
// Another process reaches the same hooks over HTTP under /__fake/ with the
// header "Authorization: Bearer <HookToken>"; HookClient wraps them and
// returns the same sentinel errors. The page never sees the token, which
// New makes at random.
//
// SetPhoneOnline(phone, false) holds new messages of the account at Pending;
// they reach the server (and the oracle) when the phone is back.
// SetStuckPending makes messages reach the server while their rows stay
// Pending, which tests a driver that must not resend them.
//
// # The oracle
//
// Received(from, to) and AllReceived return each Message the server
// received, once per accepted POST, oldest first, with From, To, the exact
// Text (newlines, emoji, right-to-left scripts and HTML-like text intact),
// the ID from the row's data-id, the time and, for an attachment, Media.
// Reset empties it. ReadByAccount is the oracle of read receipts.
//
// # Timings
//
// Every delay is an option with an exported default: DefaultBootDelay,
// DefaultLoadingDelay and DefaultStartingChatDelay (1 s each), DefaultQRFirst
// (60 s), DefaultQRRotate (20 s), DefaultQRMaxRefreshes (5), and the ticks
// DefaultPendingDelay (500 ms), DefaultSentDelay (1 s), DefaultDeliveredDelay
// (1 s) and DefaultReadDelay (0, never). Tests use tens of milliseconds.
// The attachment limits are DefaultImageLimit (16 MiB, photos and videos)
// and DefaultDocumentLimit (100 MiB), set with WithMediaLimits.
// The page reacts to a hook within a few milliseconds, through its
// WebSocket.
package fakewa
