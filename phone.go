package wasend

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// NormalizePhone returns the E.164 form ("+" and 7 to 15 digits, the first
// not 0) of a phone number in international form. It accepts a leading "+"
// or "00", or digits alone (as WhatsApp's own links do), and ignores spaces,
// dashes, dots and parentheses. Anything else gives ErrInvalidPhone.
func NormalizePhone(s string) (string, error) {
	t := strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(t, "+"):
		t = t[1:]
	case strings.HasPrefix(t, "00"):
		t = t[2:]
	}
	var b strings.Builder
	b.Grow(len(t) + 1)
	b.WriteByte('+')
	digits := 0
	for _, r := range t {
		switch {
		case r >= '0' && r <= '9':
			if digits == 0 && r == '0' {
				return "", ErrInvalidPhone
			}
			b.WriteRune(r)
			digits++
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')' || r == '\u00a0':
		default:
			return "", ErrInvalidPhone
		}
	}
	if digits < 7 || digits > 15 {
		return "", ErrInvalidPhone
	}
	return b.String(), nil
}

// MaskPhone hides all but the last 4 digits of a phone number, for logs:
// "+5491122334455" becomes "+*********4455". It never returns the whole
// number, whatever its input.
func MaskPhone(s string) string {
	digits := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			digits++
		}
	}
	keep := 4
	if digits <= 6 {
		// Too short to show 4 digits without showing most of it.
		keep = digits / 3
	}
	var b strings.Builder
	b.Grow(len(s))
	seen := 0
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch >= '0' && ch <= '9':
			seen++
			if seen > digits-keep {
				b.WriteByte(ch)
			} else {
				b.WriteByte('*')
			}
		case ch == '+':
			b.WriteByte(ch)
		}
	}
	return b.String()
}

// checkText validates a message body.
func checkText(text string) error {
	if !utf8.ValidString(text) || strings.IndexByte(text, 0) >= 0 {
		return ErrInvalidText
	}
	if strings.TrimFunc(text, unicode.IsSpace) == "" {
		return ErrEmptyText
	}
	if utf8.RuneCountInString(text) > MaxTextLength {
		return ErrTextTooLong
	}
	return nil
}

// textInfo describes a message body for logs without showing it.
func textInfo(text string) string {
	return fmt.Sprintf("%d chars", utf8.RuneCountInString(text))
}
