package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/wasend/wasend"
)

// Numbers: the optional wasend.NumberStore. Run registers this group only
// for a store that implements it.

var numberTests = []test{
	{"Cache", testNumbersCache},
	{"Replace", testNumbersReplace},
	{"Many", testNumbersMany},
	{"Invalid", testNumbersInvalid},
}

// numberStore returns the store under test as a NumberStore.
func numberStore(t *testing.T, s *store) wasend.NumberStore {
	t.Helper()
	return optional[wasend.NumberStore](t, s)
}

func mustCacheNumbers(t *testing.T, ns wasend.NumberStore, infos ...wasend.NumberInfo) {
	t.Helper()
	if err := ns.CacheNumbers(t.Context(), infos); err != nil {
		t.Fatalf("CacheNumbers(%d answers): %v", len(infos), err)
	}
}

func mustCachedNumbers(t *testing.T, ns wasend.NumberStore, phones []string, since time.Time) map[string]wasend.NumberInfo {
	t.Helper()
	got, err := ns.CachedNumbers(t.Context(), phones, since)
	if err != nil {
		t.Fatalf("CachedNumbers(%d numbers): %v", len(phones), err)
	}
	return got
}

// checkNumbers fails unless got holds exactly want (by number), each with
// Cached set.
func checkNumbers(t *testing.T, what string, got map[string]wasend.NumberInfo, want ...wasend.NumberInfo) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d answers, want %d", what, len(got), len(want))
	}
	for _, w := range want {
		g, ok := got[w.Phone]
		w.Cached = true
		switch {
		case !ok:
			t.Fatalf("%s: no answer for %s", what, wasend.MaskPhone(w.Phone))
		case g.Phone != w.Phone || g.OnWhatsApp != w.OnWhatsApp || g.Canonical != w.Canonical || g.ContextID != w.ContextID ||
			g.Cached != w.Cached || !g.CheckedAt.Equal(w.CheckedAt) || g.CheckedAt.Location() != time.UTC:
			t.Fatalf("%s: answer for %s = on WhatsApp %v, canonical %s, context %d, cached %v, checked %v; want %v, %s, %d, %v, %v (UTC)",
				what, wasend.MaskPhone(w.Phone), g.OnWhatsApp, wasend.MaskPhone(g.Canonical), g.ContextID, g.Cached, g.CheckedAt,
				w.OnWhatsApp, wasend.MaskPhone(w.Canonical), w.ContextID, w.Cached, w.CheckedAt)
		}
	}
}

// testNumbersCache: the answers come back for the numbers asked that were
// checked at or after since; Clean leaves them alone.
func testNumbersCache(t *testing.T, s *store) {
	ns := numberStore(t, s)
	bc := newContext(t, s, wasend.ContextAvailable)
	b := s.base()
	on := wasend.NumberInfo{Phone: "+5511987654321", OnWhatsApp: true, CheckedAt: b.Add(-2 * time.Hour), ContextID: bc.ID}
	off := wasend.NumberInfo{Phone: "+15550000001", CheckedAt: b.Add(-time.Hour)}
	// Brazil's ninth digit: WhatsApp opened the chat of another number.
	fixed := wasend.NumberInfo{Phone: "+551187654321", OnWhatsApp: true, Canonical: "+5511987654321", CheckedAt: b, ContextID: bc.ID}
	mustCacheNumbers(t, ns, on, off, fixed)
	asked := []string{on.Phone, off.Phone, fixed.Phone, "+15550000009", on.Phone}
	checkNumbers(t, "all", mustCachedNumbers(t, ns, asked, time.Time{}), on, off, fixed)
	checkNumbers(t, "since the second", mustCachedNumbers(t, ns, asked, off.CheckedAt), off, fixed)
	checkNumbers(t, "since later", mustCachedNumbers(t, ns, asked, b.Add(time.Millisecond)))
	checkNumbers(t, "one", mustCachedNumbers(t, ns, []string{fixed.Phone}, time.Time{}), fixed)
	checkNumbers(t, "none asked", mustCachedNumbers(t, ns, nil, time.Time{}))
	// A zero CheckedAt is now; Cached is not stored.
	mustCacheNumbers(t, ns, wasend.NumberInfo{Phone: "+15550000002", OnWhatsApp: true, Cached: true})
	got := mustCachedNumbers(t, ns, []string{"+15550000002"}, time.Time{})["+15550000002"]
	s.checkSet(t, "CheckedAt of an answer with none", got.CheckedAt)
	if _, err := s.Clean(t.Context(), s.now().Add(1000*time.Hour)); err != nil {
		t.Fatalf("Clean: %v", err)
	}
	checkNumbers(t, "after Clean", mustCachedNumbers(t, ns, asked, time.Time{}), on, off, fixed)
}

// testNumbersReplace: a newer answer replaces the stored one, an older one
// does not; of several answers for a number in one call, the newest wins.
func testNumbersReplace(t *testing.T, s *store) {
	ns := numberStore(t, s)
	b := s.base()
	phone := "+34600000001"
	v1 := wasend.NumberInfo{Phone: phone, OnWhatsApp: true, Canonical: "+34600000009", ContextID: 1, CheckedAt: b.Add(-time.Hour)}
	mustCacheNumbers(t, ns, v1)
	v2 := wasend.NumberInfo{Phone: phone, CheckedAt: b}
	mustCacheNumbers(t, ns, v2)
	checkNumbers(t, "newer answer", mustCachedNumbers(t, ns, []string{phone}, time.Time{}), v2)
	// Late, and older: kept out.
	mustCacheNumbers(t, ns, v1)
	checkNumbers(t, "older answer after a newer", mustCachedNumbers(t, ns, []string{phone}, time.Time{}), v2)
	// One call with the same number thrice, the newest in the middle.
	v3 := wasend.NumberInfo{Phone: phone, OnWhatsApp: true, CheckedAt: b.Add(2 * time.Minute)}
	mustCacheNumbers(t, ns, wasend.NumberInfo{Phone: phone, CheckedAt: b.Add(time.Minute)}, v3,
		wasend.NumberInfo{Phone: phone, CheckedAt: b.Add(time.Second)})
	checkNumbers(t, "one call, three answers", mustCachedNumbers(t, ns, []string{phone}, time.Time{}), v3)
}

// testNumbersMany: answers for 1,200 numbers, stored and read in one call
// each.
func testNumbersMany(t *testing.T, s *store) {
	ns := numberStore(t, s)
	b := s.base()
	var infos []wasend.NumberInfo
	var phones []string
	for i := range 1200 {
		in := wasend.NumberInfo{Phone: fmt.Sprintf("+1555%07d", i), OnWhatsApp: i%3 != 0, CheckedAt: b.Add(-time.Duration(i) * time.Second)}
		infos = append(infos, in)
		phones = append(phones, in.Phone)
	}
	mustCacheNumbers(t, ns, infos...)
	checkNumbers(t, "1,200 answers", mustCachedNumbers(t, ns, phones, time.Time{}), infos...)
	checkNumbers(t, "the last 100 seconds", mustCachedNumbers(t, ns, phones, b.Add(-99*time.Second)), infos[:100]...)
}

// testNumbersInvalid: an answer for a number a phone column cannot hold is
// refused with wasend.ErrInvalidPhone, and nothing of the call is stored.
func testNumbersInvalid(t *testing.T, s *store) {
	ns := numberStore(t, s)
	good := wasend.NumberInfo{Phone: "+15550000001", OnWhatsApp: true, CheckedAt: s.base()}
	for _, bad := range []wasend.NumberInfo{
		{Phone: ""},
		{Phone: "+1\xff"},
		{Phone: "+123456789012345678901234567890123"},
		{Phone: "+15550000002", Canonical: "+1\xff"},
	} {
		err := ns.CacheNumbers(t.Context(), []wasend.NumberInfo{good, bad})
		checkErrorIs(t, "CacheNumbers with a malformed number", err, wasend.ErrInvalidPhone)
	}
	checkNumbers(t, "after refused calls", mustCachedNumbers(t, ns, []string{good.Phone, "+15550000002"}, time.Time{}))
}
