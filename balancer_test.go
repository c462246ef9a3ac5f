package wasend

import (
	"context"
	"fmt"
	"math"
	"testing"

	"pgregory.net/rapid"
)

// The balancer's arithmetic, on any input rapid finds.

func TestQuotasShareInProportion(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		weights := rapid.SliceOfN(rapid.OneOf(rapid.IntRange(0, 1000), rapid.Just(unlimited)), 1, 12).Draw(rt, "weights")
		n := rapid.IntRange(0, 20000).Draw(rt, "n")
		q := quotas(weights, n)
		sum, total := 0, 0.0
		for i, x := range q {
			if x < 0 {
				rt.Fatalf("quota %d is %d", i, x)
			}
			sum += x
			total += float64(weights[i])
		}
		if sum != n {
			rt.Fatalf("quotas %v of weights %v sum to %d, want %d", q, weights, sum, n)
		}
		for i, x := range q {
			want := float64(n) / float64(len(q))
			if total > 0 {
				want = float64(n) * float64(weights[i]) / total
			}
			if math.Abs(float64(x)-want) >= 1 {
				rt.Fatalf("quota %d = %d, want within 1 of %.2f (weights %v, n %d)", i, x, want, weights, n)
			}
		}
	})
}

// contactsOnly is a CampaignStore that answers Contacts from a set.
type contactsOnly struct {
	CampaignStore
	known map[Contact]bool
}

func (c contactsOnly) Contacts(_ context.Context, ids []int64, rs []string) ([]Contact, error) {
	var out []Contact
	for _, id := range ids {
		for _, r := range rs {
			if c.known[Contact{id, r}] {
				out = append(out, Contact{id, r})
			}
		}
	}
	return out, nil
}

// plan keeps a recipient on a target that wrote to it, gives one
// recipient one target, and fills no target beyond its room.
func TestPlanKeepsThreadsAndRoom(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		ntargets := rapid.IntRange(1, 4).Draw(rt, "targets")
		var targets []*target
		for i := range ntargets {
			targets = append(targets, &target{id: int64(i + 1), room: rapid.OneOf(rapid.IntRange(0, 6), rapid.Just(unlimited)).Draw(rt, "room")})
		}
		tos := rapid.SliceOfN(rapid.IntRange(0, 9), 1, 30).Draw(rt, "recipients")
		known := map[Contact]bool{}
		for _, k := range rapid.SliceOfN(rapid.IntRange(0, 9), 0, 5).Draw(rt, "known") {
			known[Contact{int64(rapid.IntRange(1, ntargets).Draw(rt, "by")), HashRecipient(fmt.Sprint(k))}] = true
		}
		var msgs []Message
		for i, to := range tos {
			msgs = append(msgs, Message{ID: int64(i + 1), To: fmt.Sprint(to)})
		}
		b := &balancer{camps: contactsOnly{known: known}}
		rooms := map[int64]int{}
		for _, t := range targets {
			rooms[t.id] = t.room
		}
		plan, err := b.plan(context.Background(), msgs, targets, map[int64]int{})
		if err != nil {
			rt.Fatal(err)
		}
		where := map[string]int64{}
		placed := map[int64]bool{}
		fresh := map[int64]map[string]bool{}
		for id, ms := range plan {
			for _, mid := range ms {
				m := msgs[mid-1]
				placed[mid] = true
				if w, ok := where[m.To]; ok && w != id {
					rt.Fatalf("recipient %s goes to targets %d and %d", m.To, w, id)
				}
				where[m.To] = id
				sticky := false
				for _, t := range targets {
					if known[Contact{t.id, HashRecipient(m.To)}] {
						if t.id != id && !known[Contact{id, HashRecipient(m.To)}] {
							rt.Fatalf("recipient %s known to target %d went to %d", m.To, t.id, id)
						}
						sticky = true
						break
					}
				}
				if !sticky {
					if fresh[id] == nil {
						fresh[id] = map[string]bool{}
					}
					fresh[id][m.To] = true
				}
			}
		}
		for id, n := range fresh {
			if len(n) > rooms[id] {
				rt.Fatalf("target %d took %d new recipients, room %d", id, len(n), rooms[id])
			}
		}
		anyRoom := false
		for _, t := range targets {
			anyRoom = anyRoom || t.room > 0
		}
		for _, m := range msgs {
			if !placed[m.ID] && anyRoom && allUnlimited(targets) {
				rt.Fatalf("message %d stayed although every target has unlimited room", m.ID)
			}
		}
	})
}

func allUnlimited(ts []*target) bool {
	for _, t := range ts {
		if t.room != unlimited {
			return false
		}
	}
	return true
}
