package wasend

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// checker answers whether numbers are on WhatsApp: from the cache while
// an answer is fresh (WithNumberCache), else through a live session that
// can tell (NumberChecker), and keeps every answer. The cache is the
// store's (NumberStore), or, without one, this process's own. It serves
// CheckNumber, the pre-check of bulk jobs (WithPreCheckNumbers), and the
// routing of sends to the number WhatsApp opened the chat with.
type checker struct {
	nums NumberStore // nil: the cache is mem
	mem  *numberMemo
	// ttl and negTTL are how long an answer stays fresh: "on WhatsApp",
	// and "not on WhatsApp".
	ttl    time.Duration
	negTTL time.Duration
	// timeout and grace bound a check; calls counts them.
	timeout time.Duration
	grace   time.Duration
	calls   *sync.WaitGroup
	now     func() time.Time
	log     *slog.Logger
}

// fresh reports whether an answer is still fresh at now.
func (c *checker) fresh(info NumberInfo, now time.Time) bool {
	ttl := c.ttl
	if !info.OnWhatsApp {
		ttl = c.negTTL
	}
	return ttl > 0 && now.Sub(info.CheckedAt) < ttl
}

// cached returns the fresh answers the cache holds for these phones
// (canonical numbers), with Cached set.
func (c *checker) cached(ctx context.Context, phones []string) (map[string]NumberInfo, error) {
	if len(phones) == 0 {
		return nil, nil
	}
	now := c.now()
	since := now.Add(-max(c.ttl, c.negTTL))
	out := map[string]NumberInfo{}
	for start := 0; start < len(phones); start += suppressedChunk {
		part := phones[start:min(start+suppressedChunk, len(phones))]
		var (
			got map[string]NumberInfo
			err error
		)
		if c.nums != nil {
			got, err = c.nums.CachedNumbers(ctx, part, since)
		} else {
			got = c.mem.get(part)
		}
		if err != nil {
			return nil, err
		}
		for p, info := range got {
			if c.fresh(info, now) {
				info.Cached = true
				out[p] = info
			}
		}
	}
	return out, nil
}

// ask asks the session of lc whether phone (canonical) is on WhatsApp,
// and keeps the answer: a Canonical that is the number itself is dropped,
// and one that differs is kept as an answer of its own too. A check that
// cannot answer gives an error, never a negative answer, and is not kept.
func (c *checker) ask(ctx context.Context, lc *liveContext, phone string) (NumberInfo, error) {
	nc, ok := lc.session().(NumberChecker)
	if !ok {
		return NumberInfo{}, fmt.Errorf("%w: the session of context %d cannot check numbers", ErrNotSupported, lc.id)
	}
	var info NumberInfo
	err := callSession(ctx, c.timeout, c.grace, c.calls, func(cctx context.Context) error {
		got, err := nc.CheckNumber(cctx, phone)
		info = got
		return err
	})
	if err != nil {
		return NumberInfo{}, err
	}
	info.Phone, info.ContextID, info.CheckedAt, info.Cached = phone, lc.id, c.now(), false
	if info.Canonical != "" {
		canon, err := CanonicalPhone(info.Canonical)
		switch {
		case err != nil || !info.OnWhatsApp:
			if err != nil {
				c.log.Warn("the session answered a number check with a canonical number that is not one; ignored",
					"context", lc.id, "to", MaskPhone(phone))
			}
			info.Canonical = ""
		case canon == phone:
			info.Canonical = ""
		default:
			info.Canonical = canon
		}
	}
	keep := []NumberInfo{info}
	if info.Canonical != "" {
		keep = append(keep, NumberInfo{Phone: info.Canonical, OnWhatsApp: true, CheckedAt: info.CheckedAt, ContextID: lc.id})
	}
	c.keep(ctx, keep)
	c.log.Info("number checked", "context", lc.id, "to", MaskPhone(phone), "on_whatsapp", info.OnWhatsApp,
		"canonical", MaskPhone(info.Canonical))
	return info, nil
}

// keep stores answers in the cache; a failure is logged.
func (c *checker) keep(ctx context.Context, infos []NumberInfo) {
	if c.nums == nil {
		c.mem.put(infos)
		return
	}
	if err := c.nums.CacheNumbers(ctx, infos); err != nil {
		c.log.Warn("caching number checks", "err", err)
	}
}

// notOnWhatsApp keeps what a send learnt: the number is not on WhatsApp.
func (c *checker) notOnWhatsApp(ctx context.Context, contextID int64, phone string) {
	c.keep(ctx, []NumberInfo{{Phone: phone, OnWhatsApp: false, CheckedAt: c.now(), ContextID: contextID}})
}

// route returns the number to send to: the Canonical of a fresh answer
// that has one, else phone. The send's lookup in the chat routes the same
// way; if the answer expired between them, WhatsApp opens the same chat
// for either number.
//
// Only the numbers of the countries whose numbers WhatsApp corrects
// (correctedCountries) are looked up: for the others a send costs no read
// of the cache. Should WhatsApp open another number's chat for one of
// them all the same, the session refuses to send there.
func (c *checker) route(ctx context.Context, phone string) string {
	if !corrected(phone) {
		return phone
	}
	got, err := c.cached(ctx, []string{phone})
	if err != nil {
		c.log.Warn("reading the number cache; sending to the number as given", "to", MaskPhone(phone), "err", err)
		return phone
	}
	if info, ok := got[phone]; ok && info.OnWhatsApp && info.Canonical != "" {
		return info.Canonical
	}
	return phone
}

// correctedCountries are the calling codes of the numbers that WhatsApp
// may correct to another (NumberInfo.Canonical): Brazil's ninth digit,
// Mexico's "1", Argentina's "9".
var correctedCountries = []string{"+55", "+52", "+54"}

// corrected reports whether phone's country is one of correctedCountries.
func corrected(phone string) bool {
	for _, cc := range correctedCountries {
		if strings.HasPrefix(phone, cc) {
			return true
		}
	}
	return false
}

// numberMemoSize bounds the answers a process keeps without a NumberStore.
const numberMemoSize = 10000

// numberMemo is the number cache of a process without a NumberStore.
type numberMemo struct {
	mu    sync.Mutex
	m     map[string]NumberInfo
	order []string
}

func newNumberMemo() *numberMemo { return &numberMemo{m: map[string]NumberInfo{}} }

func (n *numberMemo) get(phones []string) map[string]NumberInfo {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := map[string]NumberInfo{}
	for _, p := range phones {
		if info, ok := n.m[p]; ok {
			out[p] = info
		}
	}
	return out
}

func (n *numberMemo) put(infos []NumberInfo) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, info := range infos {
		if _, ok := n.m[info.Phone]; !ok {
			if len(n.order) >= numberMemoSize {
				delete(n.m, n.order[0])
				n.order = n.order[1:]
			}
			n.order = append(n.order, info.Phone)
		}
		n.m[info.Phone] = info
	}
}
