package wasend

// MediaKind is what a media message attaches.
type MediaKind string

// The media kinds.
const (
	// MediaImage is a picture (JPEG, PNG, WebP), sent through "Photos &
	// videos" and shown inline.
	MediaImage MediaKind = "image"
	// MediaDocument is any file, sent through "Document" and shown as a
	// card with its name.
	MediaDocument MediaKind = "document"
)

// Media is a file attached to a message. The store keeps this reference
// and the file's checksum, never its bytes: the Client reads the file when
// it sends, and refuses it if its checksum changed.
type Media struct {
	// Kind is image or document.
	Kind MediaKind
	// Path is the file, as the Client's process reads it.
	Path string
	// Name is the file name the recipient sees; it defaults to Path's
	// base name.
	Name string
	// Type is the MIME type; it defaults to the one the file's content
	// or name gives.
	Type string
	// Size is the file's size in bytes and SHA256 its checksum (hex),
	// both filled in by the Client when the message is recorded.
	Size   int64
	SHA256 string
}

// The media limits the Client checks before it records a message.
const (
	// MaxImageSize is the largest image WhatsApp sends as a picture.
	MaxImageSize = 16 << 20
	// MaxDocumentSize is the largest document the Client sends (WhatsApp
	// Web's own limit is higher; larger files are slow to upload through
	// a page).
	MaxDocumentSize = 100 << 20
	// MaxCaptionLength is the longest caption, in characters.
	MaxCaptionLength = 1024
)

// ImageTypes are the MIME types sent as MediaImage; other types must be
// sent as MediaDocument.
var ImageTypes = []string{"image/jpeg", "image/png", "image/webp"}

// MediaFile is a file a session attaches: the Client checked it against
// the message's Media just before the send.
type MediaFile struct {
	Kind MediaKind
	// Path is a local file that the session's browser can read.
	Path string
	// Name, Type and Size are as in Media.
	Name string
	Type string
	Size int64
	// Caption is the message's text, or empty.
	Caption string
}
