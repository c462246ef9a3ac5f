package wasend

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// suppressor keeps the suppression list: it answers whether numbers are
// suppressed (Send, SendBulk, SendCampaign, and each message's turn), and
// adds numbers with their event. Without a SuppressionStore it does
// nothing: every number may be sent to.
type suppressor struct {
	store SuppressionStore // nil: the store keeps no list
	// guard: the store checks the list in the statements that record a
	// job and claim a message (SuppressionGuard).
	guard   bool
	notices notices
	now     func() time.Time
	log     *slog.Logger
}

// suppressedChunk bounds the numbers of one call of Suppressed.
const suppressedChunk = 500

// check returns the suppressions of the phones (canonical numbers) that
// are suppressed, under the number asked: a number counts as suppressed
// when any of its forms is (phoneVariants).
func (s *suppressor) check(ctx context.Context, phones []string) (map[string]Suppression, error) {
	if s.store == nil || len(phones) == 0 {
		return nil, nil
	}
	of := map[string][]string{} // a form -> the numbers asked that have it
	var forms []string
	for _, p := range phones {
		for _, v := range phoneVariants(p) {
			if _, seen := of[v]; !seen {
				forms = append(forms, v)
			}
			of[v] = append(of[v], p)
		}
	}
	out := map[string]Suppression{}
	for start := 0; start < len(forms); start += suppressedChunk {
		got, err := s.store.Suppressed(ctx, forms[start:min(start+suppressedChunk, len(forms))])
		if err != nil {
			return nil, err
		}
		for form, sup := range got {
			for _, p := range of[form] {
				if _, ok := out[p]; !ok {
					out[p] = sup
				}
			}
		}
	}
	return out, nil
}

// one returns the suppression of one number, if it is suppressed.
func (s *suppressor) one(ctx context.Context, phone string) (Suppression, bool, error) {
	got, err := s.check(ctx, []string{phone})
	if err != nil {
		return Suppression{}, false, err
	}
	sup, ok := got[phone]
	return sup, ok, nil
}

// guarded returns the forms of a number for a Job's or a Step's
// Unsuppressed when the store guards the list; nil otherwise, and the
// caller reads the list (one).
func (s *suppressor) guarded(phone string) []string {
	if s.store == nil || !s.guard {
		return nil
	}
	return phoneVariants(phone)
}

// refusal explains why a guarded store refused a number: its suppression
// as the list has it now, or, when it cannot be read or is gone already,
// ErrSuppressed alone.
func (s *suppressor) refusal(ctx context.Context, phone string) error {
	sup, ok, err := s.one(ctx, phone)
	if err != nil || !ok {
		return fmt.Errorf("%w: %s", ErrSuppressed, MaskPhone(phone))
	}
	return suppressedError(phone, sup)
}

// add suppresses a number, with its suppression.added event, and reports
// whether it was added (false: it was suppressed already).
func (s *suppressor) add(ctx context.Context, sup Suppression) (bool, error) {
	if sup.CreatedAt.IsZero() {
		sup.CreatedAt = s.now()
	}
	ok, err := s.store.Suppress(ctx, sup, s.notices.suppressed(sup))
	if err != nil {
		return false, err
	}
	if ok {
		s.notices.woke()
		s.log.Info("number suppressed", "to", MaskPhone(sup.Phone), "reason", sup.Reason, "context", sup.ContextID)
	}
	return ok, nil
}

// suppressedError is the error of a message refused because its
// recipient is suppressed.
func suppressedError(phone string, sup Suppression) error {
	return fmt.Errorf("%w: %s (%s)", ErrSuppressed, MaskPhone(phone), sup.Reason)
}

// MaxKeywordLength is the longest opt-out keyword, in characters.
const MaxKeywordLength = 64

// optOut matches opt-out keywords in a text: a keyword matches when its
// words appear in the text as whole words, one after the other, compared
// without case (Unicode simple folding) and without combining marks, so
// that "stop", "Stop." and "STOP!" match STOP, "arrêt" matches ARRÊT (and,
// typed with a combining accent, ARRET), and "stopwatch" matches nothing.
// The zero optOut matches nothing.
type optOut struct {
	keywords [][]string // each keyword's folded words
}

// newOptOut validates keywords: each must hold a word, be valid UTF-8 and
// have at most MaxKeywordLength characters.
func newOptOut(keywords []string) (optOut, error) {
	var m optOut
	for _, k := range keywords {
		if !utf8.ValidString(k) || utf8.RuneCountInString(k) > MaxKeywordLength {
			return optOut{}, fmt.Errorf("%w: opt-out keyword %q", ErrInvalidOption, k)
		}
		words := foldedWords(k)
		if len(words) == 0 {
			return optOut{}, fmt.Errorf("%w: opt-out keyword %q has no word", ErrInvalidOption, k)
		}
		m.keywords = append(m.keywords, words)
	}
	return m, nil
}

// match reports whether text holds a keyword.
func (m optOut) match(text string) bool {
	if len(m.keywords) == 0 {
		return false
	}
	words := foldedWords(text)
	for _, k := range m.keywords {
		for i := 0; i+len(k) <= len(words); i++ {
			same := true
			for j, w := range k {
				if words[i+j] != w {
					same = false
					break
				}
			}
			if same {
				return true
			}
		}
	}
	return false
}

// foldedWords splits s into words (runs of letters and digits, with their
// combining marks) and returns each in a form that ignores case and
// combining marks.
func foldedWords(s string) []string {
	var (
		out []string
		b   strings.Builder
	)
	flush := func() {
		if b.Len() > 0 {
			out = append(out, b.String())
			b.Reset()
		}
	}
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Me, r):
			// A combining mark belongs to its word and is ignored.
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mc, r):
			b.WriteRune(foldRune(r))
		default:
			flush()
		}
	}
	flush()
	return out
}

// foldRune returns the smallest rune of r's simple case-folding orbit, the
// same for every case of a letter.
func foldRune(r rune) rune {
	low := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		low = min(low, f)
	}
	return low
}
