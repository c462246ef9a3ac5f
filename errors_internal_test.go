package wasend

import (
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"strings"
	"testing"
)

// Every exported sentinel of errors.go has an explicit class: a kind of its
// own, a prefix, and a decided retryability, also when it is wrapped, and
// a closed context is final even when it also says "not available".
func TestEverySentinelHasAClass(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "errors.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.VAR {
			continue
		}
		for _, spec := range g.Specs {
			for _, n := range spec.(*ast.ValueSpec).Names {
				if strings.HasPrefix(n.Name, "Err") && n.IsExported() {
					names = append(names, n.Name)
				}
			}
		}
	}
	if len(names) < 30 {
		t.Fatalf("found only %d sentinels in errors.go: %v", len(names), names)
	}
	byName := map[string]error{}
	for _, c := range errorClasses {
		if c.err == context.DeadlineExceeded || c.err == context.Canceled {
			continue
		}
		name := sentinelName(c.err)
		if name == "" {
			t.Errorf("class %q: its error %q is not a sentinel of errors.go", c.kind, c.err)
			continue
		}
		byName[name] = c.err
	}
	kinds := map[ErrorKind]string{}
	for _, name := range names {
		err, ok := byName[name]
		if !ok {
			t.Errorf("%s has no class in errorClasses", name)
			continue
		}
		if !strings.HasPrefix(err.Error(), "wasend: ") {
			t.Errorf("%s: %q lacks the prefix", name, err)
		}
		c, _ := classify(err)
		if c.err != err {
			t.Errorf("%s is classified as %q, another sentinel's class", name, c.kind)
		}
		if other, dup := kinds[c.kind]; dup {
			t.Errorf("%s and %s share the kind %q", name, other, c.kind)
		}
		kinds[c.kind] = name
		wrapped := fmt.Errorf("adapter: %w", err)
		if KindOf(wrapped) != c.kind || Retryable(wrapped) != c.retryable {
			t.Errorf("%s wrapped: kind %q retryable %v, want %q %v", name, KindOf(wrapped), Retryable(wrapped), c.kind, c.retryable)
		}
	}
	closed := fmt.Errorf("%w: %w: id 3", ErrContextNotAvailable, ErrContextClosed)
	if Retryable(closed) || KindOf(closed) != ErrorKindContextClosed {
		t.Errorf("a closed context's error: kind %q retryable %v, want %q and final", KindOf(closed), Retryable(closed), ErrorKindContextClosed)
	}
}

// sentinelName finds which exported sentinel err is, by its text.
func sentinelName(err error) string {
	for name, e := range map[string]error{
		"ErrContextNotFound": ErrContextNotFound, "ErrContextNotAvailable": ErrContextNotAvailable,
		"ErrContextClosed": ErrContextClosed, "ErrContextHeld": ErrContextHeld, "ErrDuplicateContext": ErrDuplicateContext,
		"ErrInvalidPhone": ErrInvalidPhone, "ErrEmptyText": ErrEmptyText, "ErrTextTooLong": ErrTextTooLong,
		"ErrInvalidText": ErrInvalidText, "ErrNoMessages": ErrNoMessages, "ErrTooManyMessages": ErrTooManyMessages,
		"ErrInvalidDelay": ErrInvalidDelay, "ErrInvalidMetadata": ErrInvalidMetadata, "ErrNotOnWhatsApp": ErrNotOnWhatsApp,
		"ErrLoggedOut": ErrLoggedOut, "ErrConflict": ErrConflict, "ErrTimeout": ErrTimeout, "ErrDisconnected": ErrDisconnected,
		"ErrUnsupportedBrowser": ErrUnsupportedBrowser, "ErrSelectors": ErrSelectors, "ErrPhoneOffline": ErrPhoneOffline,
		"ErrUnconfirmed": ErrUnconfirmed, "ErrUnknownOutcome": ErrUnknownOutcome, "ErrSessionHung": ErrSessionHung,
		"ErrJobNotFound": ErrJobNotFound, "ErrJobFinished": ErrJobFinished, "ErrJobState": ErrJobState,
		"ErrJobExists": ErrJobExists, "ErrIdempotencyConflict": ErrIdempotencyConflict,
		"ErrInvalidIdempotencyKey": ErrInvalidIdempotencyKey, "ErrRunning": ErrRunning, "ErrClosed": ErrClosed,
		"ErrInvalidOption": ErrInvalidOption, "ErrInvalidEnv": ErrInvalidEnv, "ErrInvalidStep": ErrInvalidStep,
		"ErrStore": ErrStore, "ErrConsuming": ErrConsuming, "ErrQueue": ErrQueue, "ErrNotSupported": ErrNotSupported, "ErrLoggedIn": ErrLoggedIn,
		"ErrBanned": ErrBanned, "ErrRestricted": ErrRestricted, "ErrNewChatsLocked": ErrNewChatsLocked,
		"ErrMessageRejected": ErrMessageRejected, "ErrPasskeyRequired": ErrPasskeyRequired, "ErrProxy": ErrProxy,
		"ErrInvalidPacing": ErrInvalidPacing, "ErrInvalidNotBefore": ErrInvalidNotBefore,
		"ErrCampaignNotFound": ErrCampaignNotFound, "ErrCampaignExists": ErrCampaignExists,
		"ErrInvalidPool": ErrInvalidPool, "ErrInvalidFilter": ErrInvalidFilter,
		"ErrSuppressed": ErrSuppressed, "ErrInvalidMedia": ErrInvalidMedia, "ErrNoAccountChange": ErrNoAccountChange,
		"ErrMediaTooLarge": ErrMediaTooLarge, "ErrMediaChanged": ErrMediaChanged,
		"ErrProfileNotFound": ErrProfileNotFound, "ErrProfileCorrupt": ErrProfileCorrupt,
		"ErrProfileTooLarge": ErrProfileTooLarge, "ErrProfileStale": ErrProfileStale, "ErrProfileKey": ErrProfileKey,
	} {
		if e == err {
			return name
		}
	}
	return ""
}
