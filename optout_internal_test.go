package wasend

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The opt-out keywords match as whole words, without case, and without
// accents typed as combining marks; never inside a word.
func TestOptOutMatchesWholeWords(t *testing.T) {
	m, err := newOptOut(DefaultOptOutKeywords)
	require.NoError(t, err)
	tests := []struct {
		text string
		want bool
	}{
		{"stop", true},
		{"Stop.", true},
		{"STOP!!", true},
		{"please STOP sending", true},
		{"stopwatch", false},
		{"nonstop", false},
		{"stop-motion", true}, // a hyphen ends a word
		{"ARRÊT", true},
		{"arrêt", true},
		{"arre\u0302t", true}, // NFD: e and a combining circumflex
		{"Arrêté", false},
		{"quero SAIR da lista", true},
		{"saira", false},
		{"Baja", true},
		{"bajá", false}, // a precomposed á is another letter than a
		{"", false},
		{"   ", false},
		{"🛑 stop 🛑", true},
		{"ｓｔｏｐ", false}, // fullwidth letters are other letters
		{"thanks", false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, m.match(tt.text), "match(%q)", tt.text)
	}
}

func TestOptOutKeywordsOfSeveralWords(t *testing.T) {
	m, err := newOptOut([]string{"stop all", "Ο Τέλος"})
	require.NoError(t, err)
	assert.True(t, m.match("Stop, all of it"))
	assert.True(t, m.match("ο τέλος"), "Greek, folded")
	assert.False(t, m.match("stop"), "one word of two")
	assert.False(t, m.match("all stop"))
	assert.False(t, optOut{}.match("stop"), "no keyword, no opt-out")
	for _, bad := range []string{"", " ... ", "\xff", string(make([]rune, MaxKeywordLength+1))} {
		_, err := newOptOut([]string{bad})
		assert.ErrorIs(t, err, ErrInvalidOption, "keyword %q", bad)
	}
}

// The suppression list counts Brazil's mobile numbers with and without
// their ninth digit, and Argentina's with and without the 9, as one.
func TestPhoneVariants(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"+5511987654321", []string{"+5511987654321", "+551187654321"}},
		{"+551187654321", []string{"+551187654321", "+5511987654321"}},
		{"+551132654321", []string{"+551132654321"}}, // a landline
		{"+5491122334455", []string{"+5491122334455", "+541122334455"}},
		{"+541122334455", []string{"+541122334455", "+5491122334455"}},
		{"+525512345678", []string{"+525512345678"}},
		{"+14155550100", []string{"+14155550100"}},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, phoneVariants(tt.in), "phoneVariants(%q)", tt.in)
	}
}
