package chromedpdriver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"

	"github.com/wasend/wasend"
)

// SelectorSet is the named, versioned set of selectors through which the
// driver reads and drives WhatsApp Web. Each entry is a list tried in order:
// the first selector that matches wins (for OutRow and Status, whose matches
// are collected, the matches of every selector are joined).
//
// A selector is CSS, with three additions evaluated in the page:
//
//   - "text=Use here" matches the visible elements whose text, with runs of
//     white space collapsed and trimmed, is exactly "Use here";
//     "text=/regexp/flags" matches a JavaScript regular expression instead;
//   - "CSS >> text=…" restricts a text match to the elements that match CSS;
//   - a value selector (QRCode, PairingCode, ChatTitle, MessageID,
//     MessageMeta) may end with "@attr" to read the attribute attr of the
//     element instead of its text.
//
// StatusPending, StatusSent, StatusDelivered and StatusRead are not
// selectors but the tokens (data-icon, trimmed aria-label, svg title) that
// mark a status icon as pending, sent (or later), delivered or read; and
// AccountStorage holds localStorage keys. A tick's aria-label decides
// first; its icon names (data-icon, svg title) only when no aria-label is
// known, since the 2026 builds title a single tick "wds-ic-delivered", and
// then the blue of StatusBlue tells read from delivered.
//
// OutRow and InRow tell the direction of a row. Classes are obfuscated and
// change between builds, so the default set relies on structure: a data-id
// of "true_…" or "false_…", the hidden speaker label ("You:" or
// "{Name}:"), the tail icon of the first row of a run, and the tick, which
// only outgoing rows carry; div.message-out and div.message-in remain for
// older builds.
//
// Hosts can replace the set without a new release of the driver: load one
// with LoadSelectors or ParseSelectors and pass it to WithSelectors or
// Pool.SetSelectors. A key missing from the JSON keeps its default entry.
type SelectorSet struct {
	// Name and Version identify the set in logs and errors.
	Name    string `json:"name"`
	Version string `json:"version"`

	// Page states.
	LoggedIn     []string `json:"logged_in"`
	Loading      []string `json:"loading"`
	SearchBox    []string `json:"search_box"`
	Unsupported  []string `json:"unsupported"`
	Conflict     []string `json:"conflict"`
	UseHere      []string `json:"use_here"`
	PhoneOffline []string `json:"phone_offline"`

	// Login.
	QRCanvas    []string `json:"qr_canvas"`
	QRCode      []string `json:"qr_code"`
	QRReload    []string `json:"qr_reload"`
	LinkPhone   []string `json:"link_phone"`
	PhoneInput  []string `json:"phone_input"`
	PhoneNext   []string `json:"phone_next"`
	PairingCode []string `json:"pairing_code"`

	// Opening a chat.
	Starting  []string `json:"starting"`
	Invalid   []string `json:"invalid"`
	InvalidOK []string `json:"invalid_ok"`
	ChatPanel []string `json:"chat_panel"`
	ChatTitle []string `json:"chat_title"`

	// Sending.
	Compose    []string `json:"compose"`
	SendButton []string `json:"send_btn"`

	// Outgoing rows and their ticks.
	OutRow        []string `json:"out_row"`
	InRow         []string `json:"in_row"`
	Row           []string `json:"row"`
	MessageText   []string `json:"message_text"`
	MessageID     []string `json:"message_id"`
	MessageMeta   []string `json:"message_meta"`
	Status        []string `json:"status"`
	StatusPending []string `json:"status_pending"`
	StatusSent    []string `json:"status_sent"`

	// Receipts (whatsapp-web.md §3, §10.5). StatusDelivered and StatusRead
	// are tokens, as StatusSent is, that tell the ack of a tick (sent is
	// what none of them names); StatusBlue are selectors matched at a tick
	// icon or inside it: the blue of a read tick, which tells read from
	// delivered when only the icon is known (the 2026 icons and the chat
	// list's have no aria-label, and one icon for both).
	StatusDelivered []string `json:"status_delivered"`
	StatusRead      []string `json:"status_read"`
	StatusBlue      []string `json:"status_blue"`

	// The chat list (whatsapp-web.md §10.6): its rows, and in each row the
	// chat's title (a value: a number, or a saved contact's name), the
	// preview of its last message (a value), that message's tick when it
	// is ours, and the unread badge (a value whose first number is the
	// count: "3 unread messages").
	ListRow     []string `json:"list_row"`
	ListTitle   []string `json:"list_title"`
	ListPreview []string `json:"list_preview"`
	ListStatus  []string `json:"list_status"`
	UnreadBadge []string `json:"unread_badge"`

	// Attachments (whatsapp-web.md §5): the compose bar's Attach button,
	// its menu's items, the hidden file inputs (set by the DevTools
	// protocol, as a file chooser would), the preview dialog's caption box
	// and Send button, and the page's refusal of a file (its toast, whose
	// text tells why). In a sent row, MediaImage and MediaDocument tell the
	// attachment and MediaName (a value) a document's file name.
	Attach         []string `json:"attach"`
	AttachImage    []string `json:"attach_image"`
	AttachDocument []string `json:"attach_document"`
	FileImage      []string `json:"file_image"`
	FileDocument   []string `json:"file_document"`
	MediaCaption   []string `json:"media_caption"`
	MediaSend      []string `json:"media_send"`
	MediaError     []string `json:"media_error"`
	MediaImage     []string `json:"media_image"`
	MediaDocument  []string `json:"media_document"`
	MediaName      []string `json:"media_name"`

	// AccountStorage are the localStorage keys that hold the logged-in
	// account (whatsapp-web.md §6), tried in order: tokens, not selectors.
	AccountStorage []string `json:"account_storage"`

	// Restrictions (whatsapp-web.md §10). TempBan, LoggedOutBanner,
	// NewChatBlock, NewChatCapped, RestrictionCountdown and
	// RestrictionModal are value selectors: the driver reads their text.
	// SendFailed and SendFailedCapped are looked for inside an outgoing
	// row.
	TempBan              []string `json:"temp_ban"`
	LoggedOutBanner      []string `json:"logged_out_banner"`
	Passkey              []string `json:"passkey"`
	NewChatBlock         []string `json:"new_chat_block"`
	NewChatCapped        []string `json:"new_chat_capped"`
	RestrictionDetails   []string `json:"restriction_details"`
	RestrictionCountdown []string `json:"restriction_countdown"`
	RestrictionModal     []string `json:"restriction_modal"`
	RestrictionClose     []string `json:"restriction_close"`
	SendFailed           []string `json:"send_failed"`
	SendFailedCapped     []string `json:"send_failed_capped"`
}

// The keys of the self-tests.
var (
	// mainKeys must match when the app shows its main screen.
	mainKeys = []string{"logged_in", "search_box"}
	// chatKeys must match once a chat is open.
	chatKeys = []string{"chat_panel", "chat_title", "compose"}
	// stateKeys are the keys that recognize a page state.
	stateKeys = []string{"logged_in", "loading", "qr_canvas", "qr_code", "unsupported", "conflict", "phone_input", "pairing_code", "temp_ban", "passkey"}
	// tokenKeys hold tokens, not selectors.
	tokenKeys = []string{"status_pending", "status_sent", "status_delivered", "status_read", "account_storage"}
)

// DefaultSelectors returns a copy of the built-in selector set, taken from
// what WhatsApp Web bots used from 2020 to 2026 and from the mid-2026
// markup (whatsapp-web.md §10.4 to §10.6).
func DefaultSelectors() SelectorSet {
	return SelectorSet{
		Name:    "whatsapp-web",
		Version: "2026.3",

		LoggedIn:     []string{"#pane-side", "div[aria-label='Chat list']", "[data-testid='chat-list']", "#side"},
		Loading:      []string{"progress", "div[role='progressbar']", "[aria-label^='Loading your chats']", "#initial_startup"},
		SearchBox:    []string{"#side input[data-tab='3']", "[aria-label='Search or start a new chat']", "[data-testid='chat-list-search']", "#side div[contenteditable='true'][data-tab='3']"},
		Unsupported:  []string{"a[href*='support.google.com/chrome/answer/95414']", "text=/WhatsApp works with Google Chrome/"},
		Conflict:     []string{"text=/open in another window/i"},
		UseHere:      []string{"div[role='dialog'] button >> text=Use here", "[role='button'] >> text=Use here", "text=Use here", "[data-testid='resume-app']"},
		PhoneOffline: []string{"[data-testid='alert-phone']", "text=/Trying to reach phone/", "text=Phone not connected"},

		QRCanvas:    []string{"canvas[aria-label='Scan this QR code to link a device!']", "canvas[aria-label='Scan me!']", "div[data-ref] canvas", "[data-testid='qrcode'] canvas"},
		QRCode:      []string{"[data-testid='qrcode'][data-ref]@data-ref", "div[data-ref]@data-ref"},
		QRReload:    []string{"div[data-ref] > span > button", "div[data-ref] button", "button >> text=/Click to reload QR code/", "text=Click to reload QR code"},
		LinkPhone:   []string{"button >> text=Link with phone number", "[role='button'] >> text=Link with phone number", "text=Link with phone number"},
		PhoneInput:  []string{"input[aria-label='Type your phone number.']", "input[aria-label*='phone number']"},
		PhoneNext:   []string{"button >> text=Next", "[role='button'] >> text=Next", "text=Next"},
		PairingCode: []string{"div[aria-details='link-device-phone-number-code-screen-instructions'][data-link-code]@data-link-code", "[data-link-code]@data-link-code"},

		Starting: []string{"div[data-animate-modal-popup='true'][aria-label='Starting chat']", "[aria-label='Starting chat']"},
		Invalid: []string{"[aria-label*='Phone number shared via url is invalid']", "[aria-label*=\"isn't on WhatsApp\"]", "[aria-label*='isn’t on WhatsApp']",
			"div[role='dialog'] >> text=/Phone number shared via url is invalid|The number .* isn['’]t on WhatsApp/",
			"[data-animate-modal-popup='true'] >> text=/Phone number shared via url is invalid|The number .* isn['’]t on WhatsApp/"},
		InvalidOK: []string{"[data-testid='popup-controls-ok']", "div[role='dialog'] button >> text=OK", "[role='button'] >> text=OK"},
		ChatPanel: []string{"#main", "[data-testid='conversation-panel-wrapper']"},
		ChatTitle: []string{"#main header span[title]@title", "#main header [title]@title"},

		Compose:    []string{"#main footer div[contenteditable='true'][role='textbox']", "div[contenteditable='true'][data-tab='10']", "div[aria-label='Type a message'][contenteditable='true']", "footer div[contenteditable='true']"},
		SendButton: []string{"button[aria-label='Send']", "[role='button'][aria-label='Send']", "span[data-icon='wds-ic-send-filled']", "span[data-icon='send']", "[data-testid='compose-btn-send']"},

		OutRow: []string{"#main [data-id^='true_']", "#main div.message-out",
			"#main [role='row']:has(span[aria-label='You:'])", "#main [data-id]:has(span[aria-label='You:'])",
			"#main [role='row']:has([data-icon='tail-out'])",
			"#main [role='row']:has([aria-label=' Pending '], [aria-label=' Sent '], [aria-label=' Delivered '], [aria-label=' Read '])",
			"#main [data-id]:has([aria-label=' Pending '], [aria-label=' Sent '], [aria-label=' Delivered '], [aria-label=' Read '])"},
		InRow: []string{"#main [data-id^='false_']", "#main div.message-in",
			"#main [role='row']:has([data-icon='tail-in'])",
			"#main [role='row']:has(span[aria-label$=':']:not([aria-label='You:']))", "#main [data-id]:has(span[aria-label$=':']:not([aria-label='You:']))"},
		Row:           []string{"[role='row']"},
		MessageText:   []string{"span.selectable-text.copyable-text", "span.selectable-text", "[data-pre-plain-text] span[dir]"},
		MessageID:     []string{"[data-id]@data-id"},
		MessageMeta:   []string{"[data-pre-plain-text]@data-pre-plain-text"},
		Status:        []string{"[aria-label=' Pending ']", "[aria-label=' Sent ']", "[aria-label=' Delivered ']", "[aria-label=' Read ']", "[data-icon^='msg-']", "svg title"},
		StatusPending: []string{"Pending", "msg-time", "status-time", "wds-ic-status-pending", "ic-schedule"},
		StatusSent:    []string{"Sent", "Delivered", "Read", "msg-check", "msg-dblcheck", "msg-dblcheck-ack", "status-check", "status-dblcheck", "wds-ic-delivered", "wds-ic-read"},
		// The 2026 one-tick icon is titled wds-ic-delivered and the
		// two-tick one wds-ic-read, read or not (§10.5): the blue decides.
		StatusDelivered: []string{"Delivered", "msg-dblcheck", "status-dblcheck", "wds-ic-read"},
		StatusRead:      []string{"Read", "msg-dblcheck-ack", "status-dblcheck-ack"},
		StatusBlue:      []string{".x1rv0e52", "[fill='#53bdeb']", "[fill='#53BDEB']", "[fill='rgb(0,123,252)']", "[fill='rgb(0, 123, 252)']", "[fill='#007bfc']"},

		ListRow:     []string{"#pane-side [role='row']", "[aria-label='Chat list'] [role='row']", "[aria-label='Chat list'] [role='listitem']", "[data-testid='chat-list'] [role='listitem']"},
		ListTitle:   []string{"[data-testid='cell-frame-title'] span[title]@title", "[role='gridcell'] span[dir='auto'][title]@title", "span[dir='auto'][title]@title"},
		ListPreview: []string{"[data-testid='last-msg-status'] span[title]@title", "[role='gridcell'] > div:last-child span[dir='auto'][title]@title", "[role='gridcell'] > div:last-child span[dir='auto']"},
		ListStatus:  []string{"[data-testid='last-msg-status'] [data-icon]", "[data-icon^='status-']", "[data-icon^='msg-']", "svg title"},
		UnreadBadge: []string{"span[aria-label$='unread messages']@aria-label", "span[aria-label$='unread message']@aria-label", "[data-testid='icon-unread-count']", "span[aria-label='Unread']@aria-label"},

		Attach: []string{"#main footer button[aria-label='Attach']", "#main footer [role='button'][aria-label='Attach']", "#main footer [title='Attach']",
			"#main footer span[data-icon='plus-rounded']", "#main footer span[data-icon='plus']", "#main footer span[data-icon='clip']",
			"#main footer [data-icon='attach-menu-plus']", "[data-testid='conversation-clip'] [role='button']"},
		AttachImage: []string{"[role='menuitem'][aria-label='Photos & videos']", "[role='menuitem'] >> text=Photos & videos",
			"li[role='button'] >> text=Photos & videos", "[data-testid='mi-attach-media']"},
		AttachDocument: []string{"[role='menuitem'][aria-label='Document']", "[role='menuitem'] >> text=Document",
			"li[role='button'] >> text=Document", "[data-testid='mi-attach-document']"},
		FileImage: []string{"#main footer input[type='file'][accept*='image']", "#main input[type='file'][accept*='image']",
			"[data-testid='mi-attach-media'] input[type='file']", "input[type='file'][accept*='image']"},
		FileDocument: []string{"#main footer input[type='file'][accept='*']", "#main footer input[type='file']:not([accept*='image'])",
			"[data-testid='mi-attach-document'] input[type='file']", "#main input[type='file']:not([accept*='image'])", "input[type='file']:not([accept*='image'])"},
		MediaCaption: []string{"div[role='dialog'] div[aria-label='Add a caption'][contenteditable='true']", "div[aria-label='Add a caption'][contenteditable='true']",
			"[data-testid='media-caption-input-container'] [contenteditable='true']"},
		MediaSend: []string{"div[role='dialog'] div[role='button'][aria-label='Send']", "div[role='dialog'] button[aria-label='Send']",
			"div[role='dialog'] span[data-icon='wds-ic-send-filled']", "div[role='dialog'] span[data-icon='send']", "[data-testid='send']"},
		// WAWebMediaValidation's toasts: "1 image you tried adding is
		// larger than the 16 MB limit.", "… is not supported.", "… has no
		// content.".
		MediaError:    []string{"[role='alert'] >> text=/you tried adding (is|has)/", "text=/you tried adding (is larger than|is not supported|has no content)/"},
		MediaImage:    []string{"[data-testid='image-thumb']", "[aria-label='Open picture']", "[data-testid='media-url-provider'] img"},
		MediaDocument: []string{"[data-testid='document-thumb']", "[title^='Download \"']"},
		MediaName:     []string{"[data-testid='document-thumb'] span[dir='auto'][title]@title", "[data-testid='document-thumb'] span[title]@title"},

		AccountStorage: []string{"last-wid-md", "last-wid"},

		// WAWebTempBanScreen, a ConfirmPopup: the body holds the reason
		// and "You'll be able to use WhatsApp again in {duration}".
		TempBan: []string{"div[role='dialog'] [data-animate-modal-body='true'] >> text=/temporarily banned from WhatsApp/",
			"div[role='dialog'] >> text=/temporarily banned from WhatsApp/", "text=/temporarily banned from WhatsApp/"},
		// WAWebLoggedOutBanner's default text of a 403 (LOCKED) logout.
		LoggedOutBanner: []string{"text=/You have been logged out\\. To log back in, you will need to verify your phone number/",
			"text=/To log back in, you will need to verify your phone number/"},
		// The Shortcake passkey overlay; its English strings are unknown.
		Passkey: []string{"[data-testid='shortcake_passkey_screen']", "[data-testid='shortcake_passkey_prompt_card']", "[data-testid='shortcake_passkey_continue_button']"},
		// The compose bars that replace the composer of a new chat.
		NewChatBlock: []string{"#main footer [data-testid='reachout-timelock-compose-bar']", "[data-testid='reachout-timelock-compose-bar']",
			"#main footer >> text=/restricted\\. You can['’]t start new chats right now/"},
		NewChatCapped:      []string{"#main footer >> text=/reached the monthly limit on new chats you can start/"},
		RestrictionDetails: []string{"#main footer [role='button'] >> text=/^(Show|See) details$/", "#main footer button >> text=/^(Show|See) details$/", "#main footer span >> text=/^(Show|See) details$/"},
		// The timelock modal's countdown: "HH:MM:SS", or "N days".
		RestrictionCountdown: []string{"div[role='dialog'] div >> text=/^(\\d{1,2}:\\d{2}:\\d{2}|\\d+ days?|a day)$/", "div[role='dialog'] span >> text=/^(\\d{1,2}:\\d{2}:\\d{2}|\\d+ days?|a day)$/"},
		RestrictionModal:     []string{"div[role='dialog'][aria-modal='true']", "div[role='dialog']"},
		RestrictionClose:     []string{"div[role='dialog'] button >> text=/^(Close|Not now|OK)$/", "div[role='dialog'] [role='button'] >> text=/^(Close|Not now|OK)$/"},
		// WAWebMsgSendFailIcon and the capped variant (U+2019 apostrophes).
		SendFailed: []string{"[role='button'][aria-label='Something went wrong. Click to learn more.']", "[role='button'][aria-label$='Click to learn more.']",
			"span[data-icon='msg-error']"},
		SendFailedCapped: []string{"[aria-label*='monthly limit of new chat messages']"},
	}
}

// LoadSelectors reads a selector set in JSON from r. See ParseSelectors.
func LoadSelectors(r io.Reader) (SelectorSet, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return SelectorSet{}, fmt.Errorf("chromedpdriver: reading the selector set: %w", err)
	}
	return ParseSelectors(b)
}

// ParseSelectors decodes a selector set from JSON: an object with "name",
// "version" and one list of strings per key ("logged_in", "compose", ...).
// A key that is missing keeps the entry of DefaultSelectors; an unknown key
// is an error, so that a typo does not go unnoticed. The result is
// validated; errors wrap wasend.ErrInvalidOption.
func ParseSelectors(b []byte) (SelectorSet, error) {
	set := DefaultSelectors()
	set.Name, set.Version = "", ""
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&set); err != nil {
		return SelectorSet{}, fmt.Errorf("%w: selector set: %w", wasend.ErrInvalidOption, err)
	}
	if err := set.Validate(); err != nil {
		return SelectorSet{}, err
	}
	return set, nil
}

// Validate reports the first problem of the set: a missing name or version,
// a key with no entry, or an empty entry. Errors wrap
// wasend.ErrInvalidOption. Whether the entries match the page is checked by
// the self-test in the browser.
func (s SelectorSet) Validate() error {
	if strings.TrimSpace(s.Name) == "" || strings.TrimSpace(s.Version) == "" {
		return fmt.Errorf("%w: selector set needs a name and a version", wasend.ErrInvalidOption)
	}
	for _, k := range s.keys() {
		if len(k.list) == 0 {
			return fmt.Errorf("%w: selector set %s: key %q has no entry", wasend.ErrInvalidOption, s.ID(), k.name)
		}
		for _, e := range k.list {
			if strings.TrimSpace(e) == "" {
				return fmt.Errorf("%w: selector set %s: key %q has an empty entry", wasend.ErrInvalidOption, s.ID(), k.name)
			}
			if strings.HasSuffix(e, "text=") || strings.HasSuffix(e, "text=//") {
				return fmt.Errorf("%w: selector set %s: key %q: text match %q is empty", wasend.ErrInvalidOption, s.ID(), k.name, e)
			}
		}
	}
	return nil
}

// ID returns "name@version".
func (s SelectorSet) ID() string { return s.Name + "@" + s.Version }

// Keys returns the JSON names of the set's keys, in the order of the struct.
func (s SelectorSet) Keys() []string {
	var out []string
	for _, k := range s.keys() {
		out = append(out, k.name)
	}
	return out
}

type selectorKey struct {
	name string
	list []string
}

// keys lists the key lists of the set through their JSON tags.
func (s SelectorSet) keys() []selectorKey {
	v := reflect.ValueOf(s)
	t := v.Type()
	var out []selectorKey
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Type.Kind() != reflect.Slice {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		out = append(out, selectorKey{name: name, list: v.Field(i).Interface().([]string)})
	}
	return out
}

// clone returns a deep copy, so that a caller's later change of its slices
// does not reach the driver.
func (s SelectorSet) clone() SelectorSet {
	c := s
	v := reflect.ValueOf(&c).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		if f.Kind() == reflect.Slice {
			f.Set(reflect.ValueOf(slices.Clone(f.Interface().([]string))))
		}
	}
	return c
}

// compiledSelectors is a validated set with its JSON form for the page.
type compiledSelectors struct {
	set  SelectorSet
	json string
	gen  uint64
}

func compileSelectors(s SelectorSet, gen uint64) (*compiledSelectors, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	s = s.clone()
	m := map[string][]string{}
	for _, k := range s.keys() {
		m[k.name] = k.list
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return &compiledSelectors{set: s, json: string(b), gen: gen}, nil
}

// SelectorError is the error of a selector set that does not match the
// page. It wraps wasend.ErrSelectors.
type SelectorError struct {
	// Set is the set's "name@version".
	Set string
	// Step is where the self-test ran: "main", "chat", "page" or "send".
	Step string
	// Keys are the keys that matched nothing, or whose entries the page
	// rejected as invalid CSS.
	Keys []string
}

// Error implements error.
func (e *SelectorError) Error() string {
	return fmt.Sprintf("%s: set %s, %s: %s", wasend.ErrSelectors.Error(), e.Set, e.Step, strings.Join(e.Keys, ", "))
}

// Unwrap returns wasend.ErrSelectors.
func (e *SelectorError) Unwrap() error { return wasend.ErrSelectors }
