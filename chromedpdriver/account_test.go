package chromedpdriver

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/wasend/wasend"
)

func TestParseWID(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`"15550001111:3@c.us"`:              "+15550001111",
		`"15550001111@c.us"`:                "+15550001111",
		`15550001111@c.us`:                  "+15550001111",
		`"5511912345678:12@s.whatsapp.net"`: "+5511912345678",
		`"15550001111.0:3@c.us"`:            "+15550001111",
		`"123456789012345@lid"`:             "",
		`"12345@c.us"`:                      "",
		`"abc@c.us"`:                        "",
		`"15550001111:3@c.us`:               "",
		``:                                  "",
		`null`:                              "",
	} {
		assert.Equal(t, want, parseWID(in), in)
	}
}

// TestAccount reads the account a session logs in as, and the next one
// after a logout.
func TestAccount(t *testing.T) {
	t.Parallel()
	f, base := startFake(t)
	p, logs := testPool(t, base)
	s, rec := launch(t, p, "")
	const me, other = "15550004001", "15550004002"
	assert.Empty(t, s.Account())
	login(t, f, s, rec, 0, me)
	isAccount := func(acc string) func(wasend.SessionEvent) bool {
		return func(ev wasend.SessionEvent) bool { return ev.Type == wasend.EventAccount && ev.Account == acc }
	}
	ev := rec.waitFrom(t, 0, 10*time.Second, "account", isAccount("+"+me))
	assert.Equal(t, s.SystemID(), ev.SystemID)
	assert.Equal(t, "+"+me, s.Account())

	from := rec.len()
	f.Logout(me)
	rec.waitFrom(t, from, 10*time.Second, "logged out", isStatus(wasend.ContextDisconnected, wasend.ErrLoggedOut))
	assert.Equal(t, "+"+me, s.Account(), "the last account known, while logged out")
	login(t, f, s, rec, from, other)
	rec.waitFrom(t, from, 10*time.Second, "the other account", isAccount("+"+other))
	assert.Equal(t, "+"+other, s.Account())

	time.Sleep(500 * time.Millisecond)
	n := 0
	for _, ev := range rec.all() {
		if ev.Type == wasend.EventAccount {
			n++
		}
	}
	assert.Equal(t, 2, n, "one event per account: %s", describeEvents(rec.all()))
	assert.NotContains(t, logs.String(), me)
	assert.NotContains(t, logs.String(), other)
}
