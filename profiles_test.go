package wasend_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
)

// TestProfileSnapshotVerify: a snapshot is whole only with its system id,
// a positive generation, and data of its recorded size and checksum.
func TestProfileSnapshotVerify(t *testing.T) {
	good := wasend.NewProfileSnapshot("persistent:a", 1, []byte("archive"), time.Now(), time.Millisecond)
	require.NoError(t, good.Verify())
	require.EqualValues(t, 7, good.Size)
	for name, change := range map[string]func(*wasend.ProfileSnapshot){
		"no system id":    func(p *wasend.ProfileSnapshot) { p.SystemID = "" },
		"zero generation": func(p *wasend.ProfileSnapshot) { p.Generation = 0 },
		"a flipped byte":  func(p *wasend.ProfileSnapshot) { p.Data = []byte("archivf") },
		"a lost byte":     func(p *wasend.ProfileSnapshot) { p.Data = []byte("archiv") },
		"another size":    func(p *wasend.ProfileSnapshot) { p.Size = 8 },
	} {
		t.Run(name, func(t *testing.T) {
			p := good
			change(&p)
			require.ErrorIs(t, p.Verify(), wasend.ErrProfileCorrupt)
		})
	}
}

// TestProfileCipher: sealed bytes hold nothing of the plain text, open only
// with the same key and system id, and every other case fails with
// ErrProfileKey.
func TestProfileCipher(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	c, err := wasend.NewProfileCipher(key)
	require.NoError(t, err)
	plain := bytes.Repeat([]byte("fakewa-login-token "), 50)
	sealed, err := c.Seal("persistent:a", plain)
	require.NoError(t, err)
	require.False(t, bytes.Contains(sealed, []byte("fakewa-login-token")), "plain text in the sealed bytes")
	again, err := c.Seal("persistent:a", plain)
	require.NoError(t, err)
	require.NotEqual(t, sealed, again, "a nonce per snapshot")
	got, err := c.Open("persistent:a", sealed)
	require.NoError(t, err)
	require.Equal(t, plain, got)

	other, err := wasend.NewProfileCipher(bytes.Repeat([]byte{8}, 32))
	require.NoError(t, err)
	_, err = other.Open("persistent:a", sealed)
	require.ErrorIs(t, err, wasend.ErrProfileKey, "a wrong key")
	_, err = c.Open("persistent:b", sealed)
	require.ErrorIs(t, err, wasend.ErrProfileKey, "another session's snapshot")
	tampered := append([]byte(nil), sealed...)
	tampered[len(tampered)/2] ^= 1
	_, err = c.Open("persistent:a", tampered)
	require.ErrorIs(t, err, wasend.ErrProfileKey, "tampered bytes")
	_, err = c.Open("persistent:a", sealed[:5])
	require.ErrorIs(t, err, wasend.ErrProfileKey, "too short")

	_, err = wasend.NewProfileCipher([]byte("short"))
	require.ErrorIs(t, err, wasend.ErrInvalidOption)
}
