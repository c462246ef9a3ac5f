package wasend

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxSuppressionReasonLength is the longest reason of a suppression, in
// bytes.
const MaxSuppressionReasonLength = 255

// Suppress adds a number to the suppression list: Send refuses it from
// then on, and the messages of bulk jobs and campaigns to it fail at
// their turn (ErrorKindSuppressed), even those recorded before. reason
// says why, in at most MaxSuppressionReasonLength bytes of text; empty
// means SuppressHost. The number is kept in its canonical form
// (CanonicalPhone). Suppress reports whether it added the number: false
// when it was suppressed already (the first reason stays). With
// WithOutbox, an addition is told as a suppression.added event.
//
// The store must keep a suppression list (SuppressionStore); Suppress
// returns ErrNotSupported otherwise. A bad number or reason gives a
// *ValidationError.
func (c *Client) Suppress(ctx context.Context, phone, reason string) (bool, error) {
	if err := c.checkOpen(); err != nil {
		return false, err
	}
	if c.supp.store == nil {
		return false, errNoSuppressions
	}
	p, err := CanonicalPhone(phone)
	if err != nil {
		return false, &ValidationError{Index: -1, Field: "phone", Err: err}
	}
	switch {
	case reason == "":
		reason = SuppressHost
	case !utf8.ValidString(reason) || strings.ContainsRune(reason, 0):
		return false, &ValidationError{Index: -1, Field: "reason", Err: ErrInvalidText}
	case len(reason) > MaxSuppressionReasonLength:
		return false, &ValidationError{Index: -1, Field: "reason", Err: ErrTextTooLong}
	}
	return c.supp.add(ctx, Suppression{Phone: p, Reason: reason})
}

// Unsuppress removes a number from the suppression list, under every form
// the list counts as the same number (phoneVariants: Brazil's ninth digit,
// Argentina's 9), and reports whether it was there. Messages already
// refused stay failed. It needs a SuppressionStore (ErrNotSupported
// otherwise).
func (c *Client) Unsuppress(ctx context.Context, phone string) (bool, error) {
	if err := c.checkOpen(); err != nil {
		return false, err
	}
	if c.supp.store == nil {
		return false, errNoSuppressions
	}
	p, err := CanonicalPhone(phone)
	if err != nil {
		return false, &ValidationError{Index: -1, Field: "phone", Err: err}
	}
	removed := false
	for _, v := range phoneVariants(p) {
		ok, err := c.supp.store.Unsuppress(ctx, v)
		if err != nil {
			return removed, err
		}
		removed = removed || ok
	}
	if removed {
		c.log.Info("number unsuppressed", "to", MaskPhone(p))
	}
	return removed, nil
}

// Suppressions lists the suppression list by number, f.Limit at a time
// (DefaultJobsLimit when zero, at most MaxJobsPage), after f.AfterPhone.
// It needs a SuppressionStore (ErrNotSupported otherwise); a malformed
// filter gives a *ValidationError wrapping ErrInvalidFilter.
func (c *Client) Suppressions(ctx context.Context, f SuppressionFilter) ([]Suppression, error) {
	if c.supp.store == nil {
		return nil, errNoSuppressions
	}
	if f.Limit < 0 || f.Limit > MaxJobsPage || len(f.AfterPhone) > 32 || !utf8.ValidString(f.AfterPhone) {
		return nil, &ValidationError{Index: -1, Field: "filter",
			Err: fmt.Errorf("%w: limit %d, after %q", ErrInvalidFilter, f.Limit, MaskPhone(f.AfterPhone))}
	}
	return c.supp.store.Suppressions(ctx, f)
}

var errNoSuppressions = fmt.Errorf("%w: the store keeps no suppression list (SuppressionStore)", ErrNotSupported)

// Inbox lists the incoming messages the filter selects (one context's,
// one sender's), by id, oldest first or newest first with f.Newest,
// f.Limit at a time (DefaultJobsLimit when zero, at most MaxJobsPage);
// page with f.AfterID or f.BeforeID. The store must keep an inbox
// (InboxStore; ErrNotSupported otherwise). A malformed filter gives a
// *ValidationError wrapping ErrInvalidFilter.
func (c *Client) Inbox(ctx context.Context, f InboxFilter) ([]IncomingMessage, error) {
	if c.inbound.inbox == nil {
		return nil, fmt.Errorf("%w: the store keeps no inbox (InboxStore)", ErrNotSupported)
	}
	bad := func(format string, args ...any) error {
		return &ValidationError{Index: -1, Field: "filter", Err: fmt.Errorf("%w: "+format, append([]any{ErrInvalidFilter}, args...)...)}
	}
	switch {
	case f.Limit < 0 || f.Limit > MaxJobsPage:
		return nil, bad("limit %d, want 0 to %d", f.Limit, MaxJobsPage)
	case f.ContextID < 0 || f.AfterID < 0 || f.BeforeID < 0:
		return nil, bad("a negative id")
	}
	if f.From != "" {
		p, err := CanonicalPhone(f.From)
		if err != nil {
			return nil, bad("from: %v", err)
		}
		f.From = p
	}
	return c.inbound.inbox.Incoming(ctx, f)
}

// MarkRead marks read, through the session of a browser context, every
// incoming message from a contact (from, a phone number): the contact
// then sees blue ticks. The Client never does it by itself unless
// WithMarkRead. A context that sleeps (WithHibernation) is woken for it.
// It fails with ErrContextNotAvailable when this process does not hold
// the context, or it sleeps and cannot wake, and with ErrNotSupported
// when its session cannot mark chats read (InboxReader).
func (c *Client) MarkRead(ctx context.Context, contextID int64, from string) error {
	if err := c.checkOpen(); err != nil {
		return err
	}
	p, err := CanonicalPhone(from)
	if err != nil {
		return &ValidationError{Index: -1, Field: "from", Err: err}
	}
	lc, err := c.live(ctx, contextID)
	if err != nil {
		return err
	}
	return c.withAwake(ctx, lc, func() error {
		r, ok := lc.session().(InboxReader)
		if !ok {
			return fmt.Errorf("%w: the session of context %d cannot mark chats read", ErrNotSupported, contextID)
		}
		return callSession(ctx, c.cfg.sendTimeout, c.cfg.hangGrace, &c.calls, func(ctx context.Context) error {
			return r.MarkRead(ctx, p)
		})
	})
}

// withAwake runs f, a host's call into the session of lc, with its browser
// open: a context that sleeps (WithHibernation) is woken first, under its
// send lock, as a due job wakes it, and the lock is kept until f returns
// so that it does not fall asleep meanwhile. A context that cannot wake
// fails with ErrContextNotAvailable (its status tells why).
func (c *Client) withAwake(ctx context.Context, lc *liveContext, f func() error) error {
	if !c.hib.on() {
		return f()
	}
	if !lc.waitLock(ctx, nil) {
		return ctx.Err()
	}
	defer c.exec.unlockContext(ctx, &hold{lc: lc})
	ok, err := c.hib.awake(ctx, lc)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: context %d sleeps and could not wake", ErrContextNotAvailable, lc.id)
	}
	return f()
}

// live returns the live context id, or an error wrapping
// ErrContextNotFound, or ErrContextNotAvailable when this process does
// not hold it.
func (c *Client) live(ctx context.Context, id int64) (*liveContext, error) {
	if lc := c.contexts.get(id); lc != nil {
		return lc, nil
	}
	if _, err := c.store.Context(ctx, id); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("%w: context %d is not held by this process", ErrContextNotAvailable, id)
}

// CheckNumber answers whether a number is on WhatsApp, sending nothing.
// The number is first put in its canonical form (CanonicalPhone: Mexico's
// old "1" dropped, Argentina's "15" made a "9"); Phone is that form. A
// fresh answer comes from the cache (Cached; WithNumberCache), without a
// session. Otherwise the session of the browser context asks WhatsApp
// (NumberChecker), and the answer is kept: Canonical is the number of the
// account WhatsApp opened the chat with, when it differs (Brazil's ninth
// digit, which cannot be settled offline), and the Client sends to it
// from then on. A check that cannot answer returns its error, never "not
// on WhatsApp", and is not kept. A context that sleeps (WithHibernation)
// is woken for the check.
//
// It fails with ErrContextNotAvailable when this process does not hold
// the context, or it sleeps and cannot wake, and with ErrNotSupported when its session cannot check
// numbers. A bad number gives a *ValidationError.
func (c *Client) CheckNumber(ctx context.Context, contextID int64, phone string) (NumberInfo, error) {
	if err := c.checkOpen(); err != nil {
		return NumberInfo{}, err
	}
	p, err := CanonicalPhone(phone)
	if err != nil {
		return NumberInfo{}, &ValidationError{Index: -1, Field: "phone", Err: err}
	}
	got, err := c.checker.cached(ctx, []string{p})
	if err != nil {
		return NumberInfo{}, err
	}
	if info, ok := got[p]; ok {
		return info, nil
	}
	lc, err := c.live(ctx, contextID)
	if err != nil {
		return NumberInfo{}, err
	}
	var info NumberInfo
	err = c.withAwake(ctx, lc, func() (err error) {
		info, err = c.checker.ask(ctx, lc, p)
		return err
	})
	return info, err
}
