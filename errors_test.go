package wasend_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
)

func TestErrorClassification(t *testing.T) {
	tests := []struct {
		err       error
		kind      wasend.ErrorKind
		retryable bool
		session   wasend.ContextStatus
	}{
		{nil, wasend.ErrorKindNone, false, ""},
		{wasend.ErrNotOnWhatsApp, wasend.ErrorKindNotOnWhatsApp, false, ""},
		{fmt.Errorf("driver: %w", wasend.ErrInvalidPhone), wasend.ErrorKindInvalidPhone, false, ""},
		{wasend.ErrEmptyText, wasend.ErrorKindEmptyText, false, ""},
		{wasend.ErrTextTooLong, wasend.ErrorKindTextTooLong, false, ""},
		{wasend.ErrContextNotFound, wasend.ErrorKindContextNotFound, false, ""},
		{wasend.ErrContextClosed, wasend.ErrorKindContextClosed, false, ""},
		{wasend.ErrUnknownOutcome, wasend.ErrorKindUnknownOutcome, false, ""},
		{wasend.ErrTimeout, wasend.ErrorKindTimeout, true, ""},
		{context.DeadlineExceeded, wasend.ErrorKindTimeout, true, ""},
		{context.Canceled, wasend.ErrorKindCanceled, true, ""},
		{wasend.ErrLoggedOut, wasend.ErrorKindLoggedOut, true, wasend.ContextDisconnected},
		{wasend.ErrConflict, wasend.ErrorKindConflict, true, wasend.ContextDisconnected},
		{wasend.ErrDisconnected, wasend.ErrorKindDisconnected, true, wasend.ContextDisconnected},
		{wasend.ErrUnsupportedBrowser, wasend.ErrorKindUnsupportedBrowser, true, wasend.ContextError},
		{wasend.ErrSelectors, wasend.ErrorKindSelectors, true, wasend.ContextError},
		{wasend.ErrPhoneOffline, wasend.ErrorKindPhoneOffline, true, ""},
		{wasend.Unconfirmed(wasend.ErrTimeout), wasend.ErrorKindTimeout, true, ""},
		{wasend.Unconfirmed(wasend.ErrDisconnected), wasend.ErrorKindDisconnected, true, wasend.ContextDisconnected},
		{wasend.Unconfirmed(nil), wasend.ErrorKindUnconfirmed, true, ""},
		{&wasend.PanicError{Value: 1}, wasend.ErrorKindPanic, true, ""},
		{fmt.Errorf("%w: x", wasend.ErrStore), wasend.ErrorKindStore, true, ""},
		{errors.New("mystery"), wasend.ErrorKindOther, true, ""},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.err), func(t *testing.T) {
			assert.Equal(t, tt.kind, wasend.KindOf(tt.err))
			assert.Equal(t, tt.retryable, wasend.Retryable(tt.err))
			st, gone := wasend.SessionStatus(tt.err)
			assert.Equal(t, tt.session, st)
			assert.Equal(t, tt.session != "", gone)
		})
	}
}

func TestUnconfirmedWrapsItsCause(t *testing.T) {
	err := wasend.Unconfirmed(fmt.Errorf("no tick: %w", wasend.ErrTimeout))
	require.ErrorIs(t, err, wasend.ErrUnconfirmed)
	require.ErrorIs(t, err, wasend.ErrTimeout)
	var ue *wasend.UnconfirmedError
	require.ErrorAs(t, err, &ue)
	assert.Contains(t, err.Error(), "no tick")
}

func TestSentinelsArePrefixed(t *testing.T) {
	for _, err := range []error{wasend.ErrContextNotFound, wasend.ErrContextNotAvailable, wasend.ErrInvalidPhone,
		wasend.ErrEmptyText, wasend.ErrTextTooLong, wasend.ErrNotOnWhatsApp, wasend.ErrLoggedOut, wasend.ErrConflict,
		wasend.ErrTimeout, wasend.ErrJobNotFound, wasend.ErrJobFinished, wasend.ErrClosed, wasend.ErrRunning} {
		msg := err.Error()
		assert.True(t, strings.HasPrefix(msg, "wasend: "), msg)
		first := msg[len("wasend: "):][:1]
		assert.Equal(t, strings.ToLower(first), first, "starts lowercase: %s", msg)
	}
}
