// Package storetest is the conformance suite of wasend.Store: every
// implementation, ours and a user's, runs it, as every slog.Handler can run
// testing/slogtest.
//
// # Use
//
// A store's package runs the suite from one of its tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) wasend.Store {
//			return newEmptyMigratedStore(t) // released in t.Cleanup
//		}, storetest.Options{Parallel: true})
//	}
//
// The public suites (storetest, queuetest, leasetest and browsertest)
// share that shape: the test, a function that builds one implementation
// for a subtest, and Options whose zero value means the defaults.
//
// # Isolation
//
// Each subtest calls newStore once and expects a fresh, empty store. With
// Options.Parallel the subtests run in parallel, and each store must share
// nothing with the others (its own database, schema or file); without it,
// newStore may empty one shared database instead.
//
// # What it checks
//
// Browser contexts (creation, listing, transitions, unique system ids),
// jobs (creation with their messages, defaults, filters and paging, texts
// kept byte for byte: see Texts, metadata), idempotency keys (also under
// concurrent creation), Apply (each field of each transition, its
// conditions, its atomicity across job, message and context, and races
// between claimers), Counts, Clean, the context errors of every method, and
// account safety: context settings (Pacing and Proxy through CreateContext,
// UpdateContext, Context and Contexts, and their validation), the
// restriction and first login that context transitions store, the
// restricted status, a job's Wait (cleared by a change without it) and
// NotBefore, and the send ledger (a Send is recorded only when its step
// applies; Sends' order and bound; PruneSends, which keeps the contacts).
//
// For a store that implements the optional wasend.CampaignStore, the
// group Campaigns (and only then: Run asks a first store) checks
// CreateCampaign (jobs, messages, pool order, metadata, keys, also under
// concurrent creation, and contexts that fail the whole campaign),
// Campaign, Campaigns and its filter, MoveMessages (what moves and what
// stays, copies and MovedFrom, the version, the completion of a job left
// with nothing to send, refusals and errors), CampaignID in Job and Jobs,
// and Clean's deletion of campaigns left with no job. Likewise, the group
// Outbox runs for a wasend.OutboxStore.
//
// The groups of the optional interfaces of receipts, the inbox,
// suppressions and number checks run for the stores that implement them,
// and only those:
//
//   - Receipts, for a wasend.ReceiptStore: Step.Receipt's conditions (a
//     sent message only, each ack recorded once at its first report, read
//     implies delivered, Undelivered), its atomicity with the rest of its
//     step and its Events, a step of only a Receipt, Unread's filters and
//     paging, and Counts' Receipts. It also checks the columns that came
//     with it: a message's Media (round trip with names that are not
//     ASCII, no alias of the caller's value, moves, refusals wrapping
//     wasend.ErrInvalidMedia) and a context's Account (set by a context
//     transition, kept by those without one).
//   - Inbox, for a wasend.InboxStore: RecordIncoming (texts byte for
//     byte, one message per context and WhatsApp id, also under a race of
//     20 callers, its events only when stored), Incoming's filters and
//     keyset paging, and that Clean keeps the inbox.
//   - Suppressions, for a wasend.SuppressionStore: Suppress once (also
//     under a race), its events, Unsuppress, Suppressed on 10,000
//     numbers, Suppressions by number, byte for byte, and that Clean keeps
//     them.
//   - SuppressionGuard, for a wasend.SuppressionGuard: a CreateJob or
//     an Apply whose Unsuppressed holds a suppressed number changes
//     nothing (no job, no part of the step, no ledger entry) and
//     CreateJob says ErrSuppressed; a held idempotency key comes first,
//     a context that takes no jobs after; Unsuppressed is never stored,
//     and more than wasend.MaxUnsuppressed numbers are refused.
//   - Numbers, for a wasend.NumberStore: CacheNumbers (a newer answer
//     replaces an older one, never the reverse) and CachedNumbers' since.
//
// # What it assumes
//
// The store keeps times to the millisecond or better and returns them in
// UTC; the suite's times are whole milliseconds. Metadata comes back as
// encoding/json decodes it into a map[string]any (numbers as float64). Ids
// grow in creation order. The store stamps what the caller leaves zero with
// its clock, which Options.Now gives (default: the wall clock).
//
// # Profile stores
//
// RunProfiles is the suite of wasend.ProfileStore, the stores of the
// login snapshots of persistent sessions: newStore takes the size limit
// to give the store (ProfileLimit), and ProfileOptions.Corrupt damages
// stored bytes so that the suite checks that LoadProfile detects it.
// profiledir and sqlstore's Store.Profiles run it; so can a user's store
// (S3, a key-value store):
//
//	storetest.RunProfiles(t, func(t *testing.T, limit int64) wasend.ProfileStore {
//		return newEmptyStore(t, limit)
//	}, storetest.ProfileOptions{Parallel: true, Corrupt: flipAByte})
//
// # Benchmarks
//
// Bench measures the calls on the hot path of a send, for comparing stores.
//
// # Dependencies
//
// The package imports only the standard library and wasend, so that an
// implementation's tests pull in nothing else.
package storetest
