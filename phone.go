package wasend

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxTextLength is the longest text WhatsApp accepts, in characters.
const MaxTextLength = 65536

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

// CanonicalPhone returns the form of a phone number that WhatsApp uses, as
// far as it can be told offline: NormalizePhone's E.164 form, with the
// country quirks that have one answer settled. The Client sends to, checks
// and suppresses numbers in this form.
//
//   - Mexico: mobile numbers used to be dialled from abroad as +52 1 and
//     ten digits. The "1" was abolished in 2019, and WhatsApp delivers a
//     message for 521… to the chat of 52…: +52 1 and ten digits becomes
//     +52 and the ten digits.
//   - Argentina: the international form of a mobile number is +54 9, the
//     area code (2 to 4 digits) and the subscriber number, ten digits in
//     all after the 9; at home it is written with the area code, then 15,
//     then the subscriber number. +54, an area code, 15 and the number
//     (12 digits) becomes +54 9, the area code and the number, when only
//     one area code length reads so. A number without the 9 (+54 and ten
//     digits) is left as it is: it may be a landline, and only WhatsApp
//     can tell (CheckNumber's Canonical).
//   - Brazil: mobile numbers gained a ninth digit (55, a two-digit area
//     code, 9 and eight digits), but accounts registered before it may
//     still be known to WhatsApp by the old eight-digit form, and no rule
//     on the area code tells which. CanonicalPhone leaves both forms as
//     they are: send to CheckNumber's Canonical when it gives one. The
//     suppression list counts the two forms as one number.
//
// Anything NormalizePhone refuses gives ErrInvalidPhone.
func CanonicalPhone(s string) (string, error) {
	p, err := NormalizePhone(s)
	if err != nil {
		return "", err
	}
	d := p[1:]
	switch {
	case strings.HasPrefix(d, "52") && len(d) == 13 && d[2] == '1':
		return "+52" + d[3:], nil
	case strings.HasPrefix(d, "54"):
		if n, ok := argentineMobile(d[2:]); ok {
			return "+549" + n, nil
		}
	}
	return p, nil
}

// argentineMobile reads the digits after Argentina's country code as a
// mobile number written with the national prefix 15 (with or without the
// 9 before it), and returns the area code and the subscriber number
// without it. Buenos Aires (11) is the only area code of two digits; the
// others, of three or four, start with 2 or 3. Three and four cannot both
// be followed by 15 (that would need a digit to be 1 and 5), so one
// reading at most fits.
func argentineMobile(d string) (string, bool) {
	if len(d) == 13 && d[0] == '9' {
		d = d[1:]
	}
	if len(d) != 12 {
		return "", false
	}
	for a := 2; a <= 4; a++ {
		if (a == 2) != strings.HasPrefix(d, "11") || (a > 2 && d[0] != '2' && d[0] != '3') {
			continue
		}
		if d[a:a+2] == "15" {
			return d[:a] + d[a+2:], true
		}
	}
	return "", false
}

// phoneVariants returns the forms of a canonical number under which the
// same account may be known, the number first: Brazil's mobile numbers
// with and without their ninth digit, and Argentina's with and without
// the 9 of mobiles. The suppression list checks them all.
func phoneVariants(p string) []string {
	out := []string{p}
	if len(p) < 2 {
		return out
	}
	d := p[1:]
	switch {
	case strings.HasPrefix(d, "55") && len(d) == 13 && d[4] == '9' && d[5] >= '6':
		out = append(out, "+"+d[:4]+d[5:])
	case strings.HasPrefix(d, "55") && len(d) == 12 && d[4] >= '6':
		out = append(out, "+"+d[:4]+"9"+d[4:])
	case strings.HasPrefix(d, "549") && len(d) == 13:
		out = append(out, "+54"+d[3:])
	case strings.HasPrefix(d, "54") && len(d) == 12 && d[2] != '9':
		out = append(out, "+549"+d[2:])
	}
	return out
}
