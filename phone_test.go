package wasend_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
)

func TestNormalizePhone(t *testing.T) {
	tests := []struct{ in, want string }{
		{"+5491122334455", "+5491122334455"},
		{"+54 9 11 2233-4455", "+5491122334455"},
		{"0054 (11) 2233.4455", "+541122334455"},
		{"5491122334455", "+5491122334455"},
		{" +1 (415) 555-0100 ", "+14155550100"},
		{"+6834002", "+6834002"},
		{"+123456", ""},
		{"+1234567890123456", ""},
		{"+0123456789", ""},
		{"+54-11-abc", ""},
		{"++5491122334455", ""},
		{"", ""},
		{"+54 9 11 2233 4455 ext 2", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := wasend.NormalizePhone(tt.in)
			if tt.want == "" {
				require.ErrorIs(t, err, wasend.ErrInvalidPhone)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestMaskPhone(t *testing.T) {
	tests := []struct{ in, want string }{
		{"+5491122334455", "+*********4455"},
		{"5491122334455", "*********4455"},
		{"+54 9 11 2233-4455", "+*********4455"},
		{"+123", "+**3"},
		{"", ""},
		{"abc", ""},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, wasend.MaskPhone(tt.in), tt.in)
	}
}
