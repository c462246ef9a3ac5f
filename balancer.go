package wasend

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// CampaignFlowAfter is how long a job of a campaign must have to wait for
// its context's daily caps before the balancer gives its new contacts
// (recipients its context never wrote to) to the contexts of the pool
// that have budget left.
const CampaignFlowAfter = 5 * time.Minute

// balancer assigns the messages of a campaign to the contexts of its pool
// (SendCampaign) and, at each sweep, moves the unsent ones: the new
// contacts of a context out of daily budget to the contexts with budget,
// and, when the campaign allows it (AllowMoves), every unsent message of a
// context that is restricted, banned or closed. It holds no state of its
// own: a move is one conditional step of the store, so several processes
// may balance at once and a message still moves at most once.
type balancer struct {
	store Store
	camps CampaignStore // nil: the store keeps no campaigns
	queue Queue
	gov   *governor
	// events tells the host of the moves (EventMoved).
	events *eventPump
	// enq ends the jobs of a closed context that nothing can leave.
	enq *enqueuer
	now func() time.Time
	log *slog.Logger
}

// moveMode is what may leave a job of a campaign.
type moveMode int

const (
	moveNone moveMode = iota
	// moveNew moves the messages to recipients the job's context never
	// wrote to, within the targets' budgets.
	moveNew
	// moveNewAnyway moves them whatever the targets' budgets (a lock on
	// new chats).
	moveNewAnyway
	// moveAll moves every pending message.
	moveAll
)

// capacity is what a context of the pool may still take; unlimited is
// larger than any campaign.
const unlimited = 1 << 40

// weight is how many new contacts a context may still take today, as the
// balancer sees it: 0 for a context that is restricted (or takes no jobs),
// unlimited when it is not paced.
func (b *balancer) weight(ctx context.Context, bc BrowserContext) (int, error) {
	if bc.Status == ContextClosed || bc.Status == ContextError || bc.Restriction.Active(b.now()) {
		return 0, nil
	}
	st, err := b.gov.stats(ctx, bc, nil)
	if err != nil || st == nil {
		return unlimited, err
	}
	switch {
	case st.Restriction.Active(b.now()):
		return 0, nil
	case st.NewContactsLeft >= 0 && st.DayLeft >= 0:
		return min(st.NewContactsLeft, st.DayLeft), nil
	case st.NewContactsLeft >= 0:
		return st.NewContactsLeft, nil
	case st.DayLeft >= 0:
		return st.DayLeft, nil
	}
	return unlimited, nil
}

// assign splits a campaign's messages over its pool: a recipient one of
// the contexts wrote to before stays with it (the first in pool order),
// the same recipient twice goes to one context, and the others are shared
// in proportion to the new contacts each context may still take today
// (evenly when none may). It returns, for each context of the pool, the
// indexes of its messages, in order.
func (b *balancer) assign(ctx context.Context, pool []BrowserContext, msgs []Message) ([][]int, error) {
	hashes := make([]string, len(msgs))
	seen := map[string]bool{}
	var uniq []string
	for i, m := range msgs {
		hashes[i] = HashRecipient(m.To)
		if !seen[hashes[i]] {
			seen[hashes[i]] = true
			uniq = append(uniq, hashes[i])
		}
	}
	ids := make([]int64, len(pool))
	index := map[int64]int{}
	weights := make([]int, len(pool))
	for i, bc := range pool {
		ids[i], index[bc.ID] = bc.ID, i
		w, err := b.weight(ctx, bc)
		if err != nil {
			return nil, err
		}
		weights[i] = w
	}
	owner := map[string]int{}
	contacts, err := b.camps.Contacts(ctx, ids, uniq)
	if err != nil {
		return nil, err
	}
	for _, c := range contacts {
		i := index[c.ContextID]
		if o, ok := owner[c.Recipient]; !ok || i < o {
			owner[c.Recipient] = i
		}
	}
	fresh := 0
	for _, h := range uniq {
		if _, ok := owner[h]; !ok {
			fresh++
		}
	}
	quota := quotas(weights, fresh)
	given := make([]int, len(pool))
	out := make([][]int, len(pool))
	for i, h := range hashes {
		o, ok := owner[h]
		if !ok {
			o = 0
			for k := range pool {
				if quota[k]-given[k] > quota[o]-given[o] {
					o = k
				}
			}
			given[o]++
			owner[h] = o
		}
		out[o] = append(out[o], i)
	}
	return out, nil
}

// quotas shares n between weights in proportion, by largest remainders;
// every weight counts as 1 when they are all 0.
func quotas(weights []int, n int) []int {
	w := make([]float64, len(weights))
	var total float64
	for i, x := range weights {
		w[i] = float64(max(x, 0))
		total += w[i]
	}
	if total == 0 {
		for i := range w {
			w[i] = 1
		}
		total = float64(len(w))
	}
	q := make([]int, len(w))
	rem := make([]float64, len(w))
	left := n
	for i := range w {
		share := float64(n) * w[i] / total
		q[i] = int(share)
		rem[i] = share - float64(q[i])
		left -= q[i]
	}
	for ; left > 0; left-- {
		best := 0
		for i := range rem {
			if rem[i] > rem[best] {
				best = i
			}
		}
		q[best]++
		rem[best] = -1
	}
	return q
}

// balance moves what may move in every active campaign.
func (b *balancer) balance(ctx context.Context) {
	if b.camps == nil {
		return
	}
	var after int64
	for {
		list, err := b.camps.Campaigns(ctx, CampaignFilter{Active: true, AfterID: after})
		if err != nil {
			if ctx.Err() == nil {
				b.log.Warn("balancing campaigns", "err", err)
			}
			return
		}
		if len(list) == 0 {
			return
		}
		contexts, err := b.store.Contexts(ctx)
		if err != nil {
			b.log.Warn("balancing campaigns", "err", err)
			return
		}
		byID := make(map[int64]BrowserContext, len(contexts))
		for _, bc := range contexts {
			byID[bc.ID] = bc
		}
		for _, c := range list {
			after = c.ID
			if err := b.balanceOne(ctx, c.ID, byID); err != nil && ctx.Err() == nil {
				b.log.Warn("balancing a campaign", "campaign", c.ID, "err", err)
			}
		}
		if len(list) < DefaultJobsLimit {
			return
		}
	}
}

// mode says what may leave a pending job of the campaign now.
func (b *balancer) mode(c Campaign, j Job, bc BrowserContext, now time.Time) moveMode {
	switch {
	case bc.Status == ContextClosed:
		if c.Move {
			return moveAll
		}
		return moveNone
	case bc.Status == ContextRestricted || bc.Restriction.Active(now):
		if !c.Move {
			return moveNone
		}
		if bc.Restriction.Kind == RestrictionNewChats {
			return moveNewAnyway
		}
		return moveAll
	case (j.Wait == WaitDailyCap || j.Wait == WaitNewContactCap) && j.NextRunAt.Sub(now) > CampaignFlowAfter:
		return moveNew
	}
	return moveNone
}

// waitsLong reports whether a job waits for something that makes its
// context a poor target: its daily caps, its window or a restriction.
func waitsLong(j Job, now time.Time) bool {
	switch j.Wait {
	case WaitDailyCap, WaitNewContactCap, WaitWindow, WaitRestricted, WaitNewChatsLocked, WaitBreaker:
		return j.NextRunAt.Sub(now) > CampaignFlowAfter
	}
	return false
}

func (b *balancer) balanceOne(ctx context.Context, id int64, byID map[int64]BrowserContext) error {
	c, err := b.camps.Campaign(ctx, id)
	if err != nil {
		return err
	}
	now := b.now()
	queued := map[int64]int{} // pending messages of the campaign per context
	busy := map[int64]bool{}  // contexts whose campaign job waits long
	for _, j := range c.Jobs {
		if j.Status.Final() {
			continue
		}
		for _, m := range j.Messages {
			if m.Status == MessagePending {
				queued[j.ContextID]++
			}
		}
		if waitsLong(j, now) {
			busy[j.ContextID] = true
		}
	}
	for _, j := range c.Jobs {
		if j.Status != JobPending {
			continue
		}
		bc := byID[j.ContextID]
		mode := b.mode(c, j, bc, now)
		if mode == moveNone {
			continue
		}
		if err := b.moveOff(ctx, c, j, bc, mode, byID, queued, busy); err != nil {
			return err
		}
	}
	return nil
}

// target is a context of the pool that may take moved messages.
type target struct {
	id    int64
	room  int // how many it may still take
	given int
}

// moveOff moves what may leave one job.
func (b *balancer) moveOff(ctx context.Context, c Campaign, j Job, bc BrowserContext, mode moveMode,
	byID map[int64]BrowserContext, queued map[int64]int, busy map[int64]bool) error {
	var msgs []Message
	for _, m := range j.Messages {
		if m.Status == MessagePending {
			msgs = append(msgs, m)
		}
	}
	if mode == moveNew || mode == moveNewAnyway {
		var err error
		if msgs, err = b.uncontacted(ctx, bc.ID, msgs); err != nil {
			return err
		}
	}
	now := b.now()
	var targets []*target
	for _, id := range c.Contexts {
		t, ok := byID[id]
		// Off a closed context, messages move even to a context that waits
		// long: it sends them later, the closed one never.
		if id == j.ContextID || !ok || (busy[id] && bc.Status != ContextClosed) || t.Restriction.Active(now) ||
			(t.Status != ContextAvailable && t.Status != ContextBusy) {
			continue
		}
		room := unlimited
		if mode == moveNew {
			w, err := b.weight(ctx, t)
			if err != nil {
				return err
			}
			room = w - queued[id]
		}
		if room > 0 {
			targets = append(targets, &target{id: id, room: room})
		}
	}
	if len(msgs) == 0 || (len(targets) == 0 && !anyOpen(c, byID, j.ContextID)) {
		return b.closeOut(ctx, j, bc)
	}
	if len(targets) == 0 {
		return nil // the others may come back: the next sweep looks again
	}
	plan, err := b.plan(ctx, msgs, targets, queued)
	if err != nil {
		return err
	}
	for _, t := range targets {
		if len(plan[t.id]) == 0 {
			continue
		}
		nj, err := b.camps.MoveMessages(ctx, MessageMove{FromJob: j.ID, Messages: plan[t.id], ToContext: t.id, At: now})
		if err != nil {
			return err
		}
		if nj.ID == 0 {
			return nil // the job changed under us: the next sweep looks again
		}
		queued[t.id] += len(nj.Messages)
		queued[j.ContextID] -= len(nj.Messages)
		b.log.Info("campaign messages moved", "campaign", c.ID, "from_job", j.ID, "from_context", j.ContextID,
			"to_job", nj.ID, "to_context", t.id, "messages", len(nj.Messages))
		b.events.hostEvent(SessionEvent{Type: EventMoved, ContextID: t.id, JobID: nj.ID, FromJobID: j.ID, Moved: len(nj.Messages)})
		if from, err := b.store.Job(ctx, j.ID); err == nil && from.Status == JobPaused {
			// The host paused the job while it moved: its messages stay
			// paused wherever they are.
			_, _ = b.store.Apply(ctx, Step{Job: pauseJob(nj.ID, b.now())})
			continue
		}
		if err := b.queue.Enqueue(ctx, deliveryOf(nj), 0); err != nil {
			b.log.Warn("moved messages not enqueued; the sweep will enqueue them", "job", nj.ID, "err", err)
		}
	}
	return b.closeOut(ctx, j, bc)
}

// anyOpen reports whether a context of the pool other than except is not
// closed for good.
func anyOpen(c Campaign, byID map[int64]BrowserContext, except int64) bool {
	for _, id := range c.Contexts {
		if bc, ok := byID[id]; ok && id != except && bc.Status != ContextClosed {
			return true
		}
	}
	return false
}

// uncontacted keeps the messages to recipients the context never wrote to.
func (b *balancer) uncontacted(ctx context.Context, contextID int64, msgs []Message) ([]Message, error) {
	hashes := make([]string, len(msgs))
	for i, m := range msgs {
		hashes[i] = HashRecipient(m.To)
	}
	contacts, err := b.camps.Contacts(ctx, []int64{contextID}, hashes)
	if err != nil {
		return nil, err
	}
	known := map[string]bool{}
	for _, c := range contacts {
		known[c.Recipient] = true
	}
	out := msgs[:0:0]
	for i, m := range msgs {
		if !known[hashes[i]] {
			out = append(out, m)
		}
	}
	return out, nil
}

// plan shares messages between targets: a recipient a target wrote to
// goes to it, one recipient goes to one target, and the others go to the
// target with the most room, then the fewest messages queued.
func (b *balancer) plan(ctx context.Context, msgs []Message, targets []*target, queued map[int64]int) (map[int64][]int64, error) {
	ids := make([]int64, len(targets))
	for i, t := range targets {
		ids[i] = t.id
	}
	hashes := make([]string, len(msgs))
	for i, m := range msgs {
		hashes[i] = HashRecipient(m.To)
	}
	contacts, err := b.camps.Contacts(ctx, ids, hashes)
	if err != nil {
		return nil, err
	}
	owner := map[string]*target{}
	for _, c := range contacts {
		for _, t := range targets {
			if t.id == c.ContextID && owner[c.Recipient] == nil {
				owner[c.Recipient] = t
			}
		}
	}
	plan := map[int64][]int64{}
	for i, m := range msgs {
		t := owner[hashes[i]]
		if t == nil {
			for _, o := range targets {
				if o.room-o.given <= 0 {
					continue
				}
				if t == nil || o.room-o.given > t.room-t.given ||
					(o.room-o.given == t.room-t.given && queued[o.id]+o.given < queued[t.id]+t.given) {
					t = o
				}
			}
			if t == nil {
				continue // no room left anywhere: it waits where it is
			}
			owner[hashes[i]] = t
		}
		t.given++
		plan[t.id] = append(plan[t.id], m.ID)
	}
	return plan, nil
}

// closeOut fails a job of a closed context once nothing more can leave
// it, as failJobs does for a job outside a campaign: its unconfirmed
// messages end unknown. When no context of the pool can take a job any
// more, its pending messages are cancelled with it.
func (b *balancer) closeOut(ctx context.Context, j Job, bc BrowserContext) error {
	if bc.Status != ContextClosed {
		return nil
	}
	_, err := b.enq.giveUp(ctx, Step{Job: closedJob(jobClosed, j.ID, "", bc.Restriction.Kind == RestrictionBanned, b.now())})
	if errors.Is(err, ErrJobNotFound) {
		return nil
	}
	return err
}
