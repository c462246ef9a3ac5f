package redisqueue

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/wasend/wasend"
)

// TestSentinelsWrapRoot checks that the package's sentinels are its own,
// wrap the root's, and are classified as the root's.
func TestSentinelsWrapRoot(t *testing.T) {
	for _, c := range []struct {
		name      string
		err, root error
	}{
		{"ErrConsuming", ErrConsuming, wasend.ErrConsuming},
	} {
		t.Run(c.name, func(t *testing.T) {
			assert.NotSame(t, c.root, c.err, "a sentinel of its own, not an alias")
			assert.True(t, strings.HasPrefix(c.err.Error(), "redisqueue: "), "message %q", c.err)
			wrapped := fmt.Errorf("op: %w", c.err)
			for _, err := range []error{c.err, wrapped} {
				assert.ErrorIs(t, err, c.err)
				assert.ErrorIs(t, err, c.root)
				assert.Equal(t, wasend.KindOf(c.root), wasend.KindOf(err), "KindOf(%v)", err)
				assert.Equal(t, wasend.Retryable(c.root), wasend.Retryable(err), "Retryable(%v)", err)
			}
			assert.False(t, errors.Is(c.root, c.err), "the root's sentinel is not the package's")
		})
	}
}
