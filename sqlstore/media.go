package sqlstore

import (
	"database/sql"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/wasend/wasend"
)

// Limits of a message's Media: what its columns hold. A longer value is
// refused (a *wasend.ValidationError wrapping wasend.ErrInvalidMedia),
// never cut: a cut path names another file.
const (
	// MaxMediaPathLength is the longest Media.Path, in bytes (Linux's
	// PATH_MAX).
	MaxMediaPathLength = 4096
	// MaxMediaNameLength is the longest Media.Name, in bytes (the longest
	// file name of most file systems).
	MaxMediaNameLength = 255
	// MaxMediaTypeLength is the longest Media.Type, in bytes.
	MaxMediaTypeLength = 255
)

// checkMedia validates a message's attachment: nil (none), or a known kind,
// a path, and a name and type that are UTF-8 text without NUL within the
// limits, a size that is not negative, and a checksum that is empty or 64
// hex digits (SHA-256).
func checkMedia(m *wasend.Media) error {
	if m == nil {
		return nil
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", wasend.ErrInvalidMedia, fmt.Sprintf(format, args...))
	}
	text := func(s string) bool { return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 }
	switch {
	case m.Kind != wasend.MediaImage && m.Kind != wasend.MediaDocument:
		return bad("kind %q", m.Kind)
	case m.Path == "":
		return bad("no path")
	case len(m.Path) > MaxMediaPathLength || !text(m.Path):
		return bad("path not UTF-8 text of at most %d bytes", MaxMediaPathLength)
	case len(m.Name) > MaxMediaNameLength || !text(m.Name):
		return bad("name not UTF-8 text of at most %d bytes", MaxMediaNameLength)
	case len(m.Type) > MaxMediaTypeLength || !text(m.Type):
		return bad("type not UTF-8 text of at most %d bytes", MaxMediaTypeLength)
	case m.Size < 0:
		return bad("negative size")
	case m.SHA256 != "" && !isSHA256(m.SHA256):
		return bad("checksum is not 64 hex digits")
	}
	return nil
}

func isSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func cloneMedia(m *wasend.Media) *wasend.Media {
	if m == nil {
		return nil
	}
	c := *m
	return &c
}

// mediaTypes are the PostgreSQL types of the media columns, in the order
// of messageInsertColumns.
var mediaTypes = [6]string{"varchar", "text", "text", "varchar", "bigint", "varchar"}

// mediaValues writes the values of a message's media columns, each after
// a comma, in the order of messageInsertColumns (with PostgreSQL's casts):
// NULLs, with no argument, for a text message.
func (s *Store) mediaValues(q *query, m *wasend.Media) {
	var args [6]any
	if m != nil {
		args = [6]any{string(m.Kind), m.Path, nullString(m.Name), nullString(m.Type), m.Size, nullString(m.SHA256)}
	}
	for i, v := range args {
		if m == nil {
			q.w(", NULL")
		} else {
			q.w(", ").a(v)
		}
		if s.d.name == Postgres {
			q.w("::", mediaTypes[i])
		}
	}
}

// mediaRow is a message's media columns as scanned.
type mediaRow struct {
	kind, path, name, typ sql.NullString
	size                  sql.NullInt64
	sha256                sql.NullString
}

// media returns the attachment, or nil when the message has none.
func (r mediaRow) media() *wasend.Media {
	if !r.kind.Valid {
		return nil
	}
	return &wasend.Media{Kind: wasend.MediaKind(r.kind.String), Path: r.path.String, Name: r.name.String,
		Type: r.typ.String, Size: r.size.Int64, SHA256: r.sha256.String}
}
