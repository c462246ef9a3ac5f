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

// The country quirks (see CanonicalPhone): what can be settled offline
// is, and the rest is left to WhatsApp's own answer.
func TestCanonicalPhone(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"Mexico, the old mobile 1 is dropped", "+52 1 55 1234 5678", "+525512345678"},
		{"Mexico, already without the 1", "+52 55 1234 5678", "+525512345678"},
		{"Mexico, a landline of 10 digits starting with 1 stays", "+52 1234567890", "+521234567890"},
		{"Mexico, 521 with too few digits stays", "+52 1 55 1234 567", "+521551234567"},
		{"Argentina, the international mobile form stays", "+54 9 11 2233-4455", "+5491122334455"},
		{"Argentina, Buenos Aires with 15 becomes 9", "+54 11 15 2233-4455", "+5491122334455"},
		{"Argentina, 15 and 9 together", "+54 9 11 15 2233-4455", "+5491122334455"},
		{"Argentina, Córdoba (351) with 15", "+54 351 15 123-4567", "+5493511234567"},
		{"Argentina, a four-digit area code with 15", "+54 2966 15 12-3456", "+5492966123456"},
		{"Argentina, without the 9 is left to WhatsApp", "+54 11 2233-4455", "+541122334455"},
		{"Argentina, 12 digits without 15 after the area code are left", "+54 11 2233 4455 15", "+54112233445515"},
		{"Brazil, with the ninth digit stays", "+55 11 98765-4321", "+5511987654321"},
		{"Brazil, without it stays too", "+55 11 8765-4321", "+551187654321"},
		{"elsewhere, as NormalizePhone", "0044 20 7946 0000", "+442079460000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := wasend.CanonicalPhone(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got, "CanonicalPhone(%q)", tt.in)
		})
	}
	_, err := wasend.CanonicalPhone("+52 1")
	assert.ErrorIs(t, err, wasend.ErrInvalidPhone)
}
