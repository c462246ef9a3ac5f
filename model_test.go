package wasend_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/sqlstore"
	"github.com/wasend/wasend/sqlstore/sqlite"
	"github.com/wasend/wasend/wasendtest"
)

// The model-based test of exactly-once: rapid generates scripts of hostile
// session behaviour (errors, panics and hangs before and after the click,
// hangs that ignore their ctx, confirmations that come late or never,
// sessions gone with and without their status event, lookups that answer,
// fail, panic or hang), identical texts to the same number, duplicate
// deliveries, pause, resume and cancel, and a Client closed and another
// opened on the same store mid-run. It also sends campaigns over the
// contexts, with and without AllowMoves, while sessions meet temporary
// bans and bans, so that messages move between contexts. Once the run
// settles, it checks the invariants against what reached the scripted
// WhatsApp:
//
//   - a message reached WhatsApp at most once;
//   - a message recorded sent reached it exactly once;
//   - a message that reached it is never recorded failed, cancelled or
//     pending;
//   - no message has more attempts than its maximum, and none is left
//     sending;
//   - no context is left busy;
//   - every job is final, or paused (a reason the host can see).
//
// Messages with the same number and text cannot be told apart in the
// scripted chat, so the first three are checked per group of such
// messages: sent <= reached <= sent + unknown + unconfirmed. A campaign's
// texts are its own, and its groups span the contexts, since its messages
// move; a message that moved counts only as its copy.
//
// With a store that keeps Message.Media (the in-memory one; sqlstore
// once it does, which the probe storesMedia finds out), messages attach an
// image or a document too, with the same captions, and a file may change
// mid-run: the groups are then per file as well, since the lookup tells
// a file by its kind and its name or size (the two files differ in both).

// modelChecks is how many scripts each store runs, unless -rapid.checks
// or RAPID_CHECKS says otherwise.
const modelChecks = 12

func setModelChecks(t *testing.T, n int) {
	t.Helper()
	if os.Getenv("RAPID_CHECKS") != "" {
		return
	}
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "rapid.checks" })
	if !set {
		if err := flag.Set("rapid.checks", fmt.Sprint(n)); err != nil {
			t.Fatal(err)
		}
	}
}

// modelStore makes the store of one run, empty and ready, and what
// releases it.
type modelStore func(rt *rapid.T) (wasend.Store, func())

func TestExactlyOnceModel(t *testing.T) {
	setModelChecks(t, modelChecks)
	for _, st := range modelStores(t) {
		media := storesMedia(t, st.make)
		t.Logf("%s: media messages in the model: %v", st.name, media)
		t.Run(st.name, rapid.MakeCheck(func(rt *rapid.T) { runModel(rt, st.make, media) }))
	}
}

func modelStores(t *testing.T) []namedStore {
	return []namedStore{
		{"mem", func(rt *rapid.T) (wasend.Store, func()) { return wasendtest.NewStore(), func() {} }},
		{"sqlite", func(rt *rapid.T) (wasend.Store, func()) {
			dir, err := os.MkdirTemp("", "wasend-model-")
			if err != nil {
				rt.Fatal(err)
			}
			db, err := sqlite.Open(filepath.Join(dir, "model.db"))
			if err != nil {
				rt.Fatal(err)
			}
			store, err := sqlstore.New(db)
			if err == nil {
				err = store.Migrate(bgm)
			}
			if err != nil {
				rt.Fatal(err)
			}
			return store, func() {
				_ = db.Close()
				_ = os.RemoveAll(dir)
			}
		}},
	}
}

// storesMedia reports whether a store of newStore keeps a message's
// Media: the model sends files only through one that does.
func storesMedia(t *testing.T, newStore modelStore) bool {
	var keeps, probed bool
	rapid.Check(t, func(rt *rapid.T) {
		if probed {
			return // once is enough; rapid.Check runs it rapid.checks times
		}
		probed = true
		store, release := newStore(rt)
		defer release()
		bc, err := store.CreateContext(bgm, wasend.BrowserContext{Status: wasend.ContextDisconnected, SystemID: "probe"})
		if err != nil {
			rt.Fatalf("probe CreateContext: %v", err)
		}
		job, err := store.CreateJob(bgm, wasend.Job{ContextID: bc.ID, Kind: wasend.KindSingle, Status: wasend.JobPending,
			MaxAttempts: 1, Messages: []wasend.Message{{To: modelTo[0], Text: "probe",
				Media: &wasend.Media{Kind: wasend.MediaDocument, Path: "/probe.pdf", Name: "probe.pdf", Type: "application/pdf", Size: 1, SHA256: strings.Repeat("0", 64)}}}})
		if err != nil {
			rt.Fatalf("probe CreateJob: %v", err)
		}
		got, err := store.Job(bgm, job.ID)
		if err != nil {
			rt.Fatalf("probe Job: %v", err)
		}
		keeps = got.Messages[0].Media != nil
	})
	return keeps
}

type namedStore struct {
	name string
	make modelStore
}

// The scripted behaviours, by name, so that a shrunk script reads well.
var (
	modelActions = map[string]wasendtest.Action{
		"ok":                              {},
		"retryable error":                 {Err: wasendtest.ErrScripted},
		"permanent error":                 {Err: fmt.Errorf("scripted: %w", wasend.ErrNotOnWhatsApp)},
		"unconfirmed, not clicked":        {Err: wasend.Unconfirmed(wasend.ErrTimeout)},
		"unconfirmed after click":         {Deliver: true, After: 20 * time.Millisecond, Err: wasend.Unconfirmed(wasend.ErrTimeout)},
		"panic before click":              {Panic: "boom"},
		"panic after click":               {Deliver: true, Panic: "boom"},
		"hang before click":               {Delay: time.Second},
		"hang before click, ignoring ctx": {Delay: 300 * time.Millisecond, IgnoreCtx: true},
		"hang after click":                {Deliver: true, After: time.Second},
		"late success, ignoring ctx":      {Deliver: true, After: 300 * time.Millisecond, IgnoreCtx: true},
		"logged out, no event":            {Err: wasend.ErrLoggedOut},
		"disconnected after click":        {Deliver: true, Err: wasend.Unconfirmed(wasend.ErrDisconnected)},
		"logged out with its event":       {Logout: true},
		"selectors fail after click":      {Deliver: true, Err: fmt.Errorf("scripted: out_row: %w", wasend.ErrSelectors)},
	}
	modelFinds = map[string]wasendtest.Find{
		"truth":                 {},
		"error":                 {Err: fmt.Errorf("scripted: chat did not load: %w", wasend.ErrTimeout)},
		"selectors error":       {Err: fmt.Errorf("scripted: rows: %w", wasend.ErrSelectors)},
		"logged out":            {Err: wasend.ErrLoggedOut},
		"panic":                 {Panic: "find boom"},
		"hang":                  {Delay: time.Second},
		"hang, ignoring ctx":    {Delay: 300 * time.Millisecond, IgnoreCtx: true},
		"slow truth":            {Delay: 40 * time.Millisecond},
		"slow truth, late ctx":  {Delay: 120 * time.Millisecond, IgnoreCtx: true},
		"error after a while":   {Delay: 30 * time.Millisecond, Err: errors.New("scripted: page gone")},
		"logged out after wait": {Delay: 30 * time.Millisecond, Err: wasend.ErrDisconnected},
	}
	modelTo    = []string{"+5491100000001", "+5491100000002"}
	modelTexts = []string{"code 1234", "see you", "code 1234 "}
	// modelMedia are the files a message may attach ("" for none): they
	// differ in kind, name and size.
	modelMedia = []string{"", "photo.jpg", "invoice.pdf"}
)

// modelFiles writes the model's files into a new directory.
func modelFiles(rt *rapid.T) string {
	dir, err := os.MkdirTemp("", "wasend-model-media-")
	if err != nil {
		rt.Fatal(err)
	}
	jpg := append([]byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"), make([]byte, 64)...)
	for name, b := range map[string][]byte{"photo.jpg": jpg, "invoice.pdf": []byte("%PDF-1.4\n%%EOF\n")} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			rt.Fatal(err)
		}
	}
	return dir
}

// mediaOf is the model's file name, in dir.
func mediaOf(dir, name string) *wasend.Media {
	if name == "" {
		return nil
	}
	kind := wasend.MediaDocument
	if strings.HasSuffix(name, ".jpg") {
		kind = wasend.MediaImage
	}
	return &wasend.Media{Kind: kind, Path: filepath.Join(dir, name)}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

type modelJob struct {
	Ctx  int
	Bulk bool
	// Campaign sends the messages over every context; Move allows them
	// to move off a restricted or banned one.
	Campaign bool
	Move     bool
	Msgs     []wasend.BulkMessage
}

// campaignText marks the texts of campaigns.
const campaignText = "campaign: "

// restrictionActions are scripted sends that meet a restriction; the
// temporary ban ends a little after the script is set.
func restrictionAction(name string) (wasendtest.Action, bool) {
	switch name {
	case "temporary ban":
		return wasendtest.Action{Err: &wasend.RestrictionError{Kind: wasend.RestrictionTemporary,
			Until: time.Now().Add(300 * time.Millisecond)}}, true
	case "banned":
		return wasendtest.Action{Err: &wasend.RestrictionError{Kind: wasend.RestrictionBanned}}, true
	}
	return wasendtest.Action{}, false
}

type modelEvent struct {
	AtMS int
	Kind string
	Job  int
	Ctx  int
}

const maxAttempts = 3

func modelOptions(logger *slog.Logger) []wasend.Option {
	return []wasend.Option{
		wasend.WithLogger(logger),
		wasend.WithMaxAttempts(maxAttempts),
		wasend.WithMaxLookups(3),
		wasend.WithBackoff(5*time.Millisecond, 40*time.Millisecond, 0.2),
		wasend.WithSendTimeout(100 * time.Millisecond),
		wasend.WithHangGrace(50 * time.Millisecond),
		wasend.WithContextWait(150 * time.Millisecond),
		wasend.WithSweep(30*time.Millisecond, 100*time.Millisecond),
		wasend.WithShutdownTimeout(500 * time.Millisecond),
		wasend.WithBulkDelay(0),
		wasend.WithBulkSlice(200 * time.Millisecond),
		wasend.WithPacing(wasend.NoPacing()),
		wasend.WithBreaker(wasend.Breaker{}),
	}
}

func runModel(rt *rapid.T, newStore modelStore, media bool) {
	nctx := rapid.IntRange(1, 2).Draw(rt, "contexts")
	var dir string
	if media {
		dir = modelFiles(rt)
		defer os.RemoveAll(dir)
	}
	msgGen := rapid.Custom(func(rt *rapid.T) wasend.BulkMessage {
		bm := wasend.BulkMessage{To: rapid.SampledFrom(modelTo).Draw(rt, "to"), Text: rapid.SampledFrom(modelTexts).Draw(rt, "text")}
		if media {
			bm.Media = mediaOf(dir, rapid.SampledFrom(modelMedia).Draw(rt, "media"))
		}
		return bm
	})
	eventKinds := []string{"duplicate", "pause", "resume", "cancel", "reopen", "login"}
	if media {
		eventKinds = append(eventKinds, "change file")
	}
	jobs := rapid.SliceOfN(rapid.Custom(func(rt *rapid.T) modelJob {
		j := modelJob{Ctx: rapid.IntRange(0, nctx-1).Draw(rt, "ctx"), Bulk: rapid.Bool().Draw(rt, "bulk")}
		n := 1
		if j.Bulk {
			n = rapid.IntRange(1, 3).Draw(rt, "size")
			j.Campaign = rapid.IntRange(0, 2).Draw(rt, "campaign") == 0
		}
		if j.Campaign {
			n = rapid.IntRange(2, 5).Draw(rt, "campaign size")
			j.Move = rapid.Bool().Draw(rt, "move")
		}
		j.Msgs = rapid.SliceOfN(msgGen, n, n).Draw(rt, "msgs")
		if j.Campaign {
			for i := range j.Msgs {
				j.Msgs[i].Text = campaignText + j.Msgs[i].Text
			}
		}
		return j
	}), 1, 6).Draw(rt, "jobs")
	actions := make([][]string, nctx)
	finds := make([][]string, nctx)
	for i := range nctx {
		names := append(keys(modelActions), "temporary ban", "banned")
		actions[i] = rapid.SliceOfN(rapid.SampledFrom(names), 0, 8).Draw(rt, fmt.Sprintf("sends of context %d", i))
		finds[i] = rapid.SliceOfN(rapid.SampledFrom(keys(modelFinds)), 0, 6).Draw(rt, fmt.Sprintf("lookups of context %d", i))
	}
	events := rapid.SliceOfN(rapid.Custom(func(rt *rapid.T) modelEvent {
		return modelEvent{
			AtMS: rapid.IntRange(0, 700).Draw(rt, "at_ms"),
			Kind: rapid.SampledFrom(eventKinds).Draw(rt, "kind"),
			Job:  rapid.IntRange(0, len(jobs)-1).Draw(rt, "job"),
			Ctx:  rapid.IntRange(0, nctx-1).Draw(rt, "ctx"),
		}
	}), 0, 4).Draw(rt, "events")
	slices.SortStableFunc(events, func(a, b modelEvent) int { return a.AtMS - b.AtMS })

	store, release := newStore(rt)
	defer release()
	m := newModelRun(rt, store)
	m.dir = dir
	defer m.close()
	for i := range nctx {
		sess := m.addContext()
		for _, name := range actions[i] {
			a, ok := restrictionAction(name)
			if !ok {
				a = modelActions[name]
			}
			sess.Script(a)
		}
		for _, name := range finds[i] {
			sess.ScriptFind(modelFinds[name])
		}
	}
	// Submitted before Run starts: a context that a send finds broken
	// takes no new job (ErrContextNotAvailable), which is not what is
	// tested here.
	for _, j := range jobs {
		m.submit(j)
	}
	m.start()
	start := time.Now()
	for _, ev := range events {
		time.Sleep(time.Until(start.Add(time.Duration(ev.AtMS) * time.Millisecond)))
		m.event(ev)
	}
	m.settle()
	m.check()
}

// modelRun is one run of the model: a Client (replaced on "reopen") on a
// store, the in-memory queue and the scripted pool.
type modelRun struct {
	rt     *rapid.T
	store  wasend.Store
	queue  *wasendtest.Queue
	pool   *wasendtest.Pool
	logger *slog.Logger
	client *wasend.Client
	cancel context.CancelFunc
	done   chan error
	ctxs   []wasend.BrowserContext
	jobIDs []int64
	// campaigns are the campaigns sent; jobIDs holds their first jobs
	// (for the events), and allJobs adds those the moves made.
	campaigns []int64
	// dir holds the model's files, when it sends media.
	dir string
}

// changeFile rewrites the document with other bytes of another size, as
// long as the image's.
func (m *modelRun) changeFile() error {
	return os.WriteFile(filepath.Join(m.dir, "invoice.pdf"), []byte("%PDF-1.4\nchanged\n%%EOF\n"), 0o600)
}

var bgm = context.Background()

func newModelRun(rt *rapid.T, store wasend.Store) *modelRun {
	m := &modelRun{rt: rt, store: store, queue: wasendtest.NewQueue(wasendtest.WithWorkers(3)), pool: wasendtest.NewPool(),
		logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if os.Getenv("WASEND_MODEL_LOG") != "" {
		m.logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	m.newClient()
	return m
}

func (m *modelRun) newClient() {
	c, err := wasend.New(m.pool, m.queue, m.store, modelOptions(m.logger)...)
	if err != nil {
		m.rt.Fatalf("New: %v", err)
	}
	m.client = c
}

func (m *modelRun) addContext() *wasendtest.Session {
	bc, err := m.client.CreateContext(bgm)
	if err != nil {
		m.rt.Fatalf("CreateContext: %v", err)
	}
	m.ctxs = append(m.ctxs, bc)
	return m.pool.Session(bc.SystemID)
}

func (m *modelRun) start() {
	ctx, cancel := context.WithCancel(bgm)
	m.cancel, m.done = cancel, make(chan error, 1)
	go func() { m.done <- m.client.Run(ctx) }()
}

func (m *modelRun) stop() {
	m.cancel()
	<-m.done
	_ = m.client.Close()
}

func (m *modelRun) close() {
	m.stop()
	_ = m.queue.Close()
}

func (m *modelRun) submit(j modelJob) {
	bc := m.ctxs[j.Ctx]
	var (
		job wasend.Job
		err error
	)
	switch {
	case j.Campaign:
		var opts []wasend.SendOption
		if j.Move {
			opts = append(opts, wasend.AllowMoves())
		}
		pool := make([]int64, len(m.ctxs))
		for i, c := range m.ctxs {
			pool[i] = c.ID
		}
		var c wasend.Campaign
		c, err = m.client.SendCampaign(bgm, pool, j.Msgs, opts...)
		if err == nil {
			m.campaigns = append(m.campaigns, c.ID)
			job = c.Jobs[0]
		}
	case j.Bulk:
		job, err = m.client.SendBulk(bgm, bc.ID, j.Msgs)
	default:
		var opts []wasend.SendOption
		if md := j.Msgs[0].Media; md != nil {
			opts = append(opts, wasend.Attach(*md))
		}
		job, err = m.client.Send(bgm, bc.ID, j.Msgs[0].To, j.Msgs[0].Text, opts...)
	}
	if err != nil {
		m.rt.Fatalf("submit: %v", err)
	}
	m.jobIDs = append(m.jobIDs, job.ID)
}

func (m *modelRun) event(ev modelEvent) {
	id := m.jobIDs[ev.Job]
	var err error
	switch ev.Kind {
	case "duplicate":
		job, jerr := m.store.Job(bgm, id)
		if jerr == nil {
			err = m.queue.Enqueue(bgm, wasend.Delivery{JobID: id, ContextID: job.ContextID, Kind: job.Kind}, 0)
		}
	case "pause":
		_, err = m.client.Pause(bgm, id)
	case "resume":
		_, err = m.client.Resume(bgm, id)
	case "cancel":
		_, err = m.client.Cancel(bgm, id)
	case "login":
		m.pool.Session(m.ctxs[ev.Ctx].SystemID).Login()
	case "change file":
		// The document changes (its name and size stay apart from the
		// image's): its messages not sent yet fail with media_changed.
		err = m.changeFile()
	case "reopen":
		m.stop()
		m.newClient()
		for _, bc := range m.ctxs {
			if got, err := m.store.Context(bgm, bc.ID); err == nil && got.Status == wasend.ContextClosed {
				continue // banned
			}
			if _, err := m.client.OpenContext(bgm, bc.ID); err != nil {
				m.rt.Fatalf("OpenContext %d: %v", bc.ID, err)
			}
		}
		m.start()
	}
	if err != nil && !errors.Is(err, wasend.ErrJobFinished) {
		m.rt.Fatalf("%s job %d: %v", ev.Kind, id, err)
	}
}

// settle lets the sessions come back (a login after every logout or
// error, as a person would scan again, and the end of every temporary
// ban) until every job is final or
// paused, no message is sending and no context is busy.
func (m *modelRun) settle() {
	deadline := time.Now().Add(time.Minute)
	for {
		settled := true
		for _, id := range m.allJobs() {
			j, err := m.store.Job(bgm, id)
			if err != nil {
				m.rt.Fatalf("Job %d: %v", id, err)
			}
			if !j.Status.Final() && j.Status != wasend.JobPaused {
				settled = false
			}
			for _, msg := range j.Messages {
				if msg.Status == wasend.MessageSending {
					settled = false
				}
			}
		}
		for _, bc := range m.ctxs {
			got, err := m.store.Context(bgm, bc.ID)
			if err != nil {
				m.rt.Fatalf("Context %d: %v", bc.ID, err)
			}
			switch got.Status {
			case wasend.ContextBusy:
				settled = false
			case wasend.ContextDisconnected, wasend.ContextError, wasend.ContextRestricted:
				// A temporary ban ends when the page shows the chats again.
				settled = false
				m.pool.Session(bc.SystemID).Login()
			}
		}
		if settled {
			return
		}
		if time.Now().After(deadline) {
			m.rt.Errorf("the run did not settle in a minute")
			m.report()
			m.rt.FailNow()
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type groupKey struct {
	ctx             int64
	to, text, media string
}

// groupOf is the group of a message: a campaign's span its contexts.
// media is its file's name, or "".
func groupOf(ctx int64, to, text, media string) groupKey {
	if strings.HasPrefix(text, campaignText) {
		ctx = 0
	}
	return groupKey{ctx, to, text, media}
}

// nameOf is a file's name, or "" for none.
func nameOf(m *wasend.Media) string {
	if m == nil {
		return ""
	}
	return m.Name
}

// sentName is the name of the file a message that reached WhatsApp
// attached, or "".
func sentName(s wasendtest.Sent) string {
	if s.Media == nil {
		return ""
	}
	return s.Media.Name
}

// allJobs returns the jobs submitted and every job of the campaigns.
func (m *modelRun) allJobs() []int64 {
	ids := slices.Clone(m.jobIDs)
	for _, id := range m.campaigns {
		c, err := m.client.Campaign(bgm, id)
		if err != nil {
			m.rt.Fatalf("Campaign %d: %v", id, err)
		}
		for _, j := range c.Jobs {
			if !slices.Contains(ids, j.ID) {
				ids = append(ids, j.ID)
			}
		}
	}
	return ids
}

type groupCount struct {
	messages, reached, sent, unknown, unconfirmed, other int
}

func (m *modelRun) check() {
	groups := map[groupKey]*groupCount{}
	get := func(k groupKey) *groupCount {
		if groups[k] == nil {
			groups[k] = &groupCount{}
		}
		return groups[k]
	}
	for _, id := range m.allJobs() {
		j, err := m.store.Job(bgm, id)
		if err != nil {
			m.rt.Fatalf("Job %d: %v", id, err)
		}
		if !j.Status.Final() && j.Status != wasend.JobPaused {
			m.rt.Errorf("job %d is %s: neither final nor waiting for a visible reason", j.ID, j.Status)
		}
		for _, msg := range j.Messages {
			if msg.Attempts > j.MaxAttempts {
				m.rt.Errorf("message %d of job %d: %d attempts, more than %d", msg.ID, j.ID, msg.Attempts, j.MaxAttempts)
			}
			if msg.ErrorKind == wasend.ErrorKindMoved {
				if msg.Status != wasend.MessageCancelled {
					m.rt.Errorf("message %d of job %d moved but is %s", msg.ID, j.ID, msg.Status)
				}
				continue // its copy stands for it
			}
			g := get(groupOf(j.ContextID, msg.To, msg.Text, nameOf(msg.Media)))
			g.messages++
			switch msg.Status {
			case wasend.MessageSent:
				g.sent++
			case wasend.MessageUnknown:
				g.unknown++
			case wasend.MessageUnconfirmed:
				g.unconfirmed++
			case wasend.MessageSending:
				m.rt.Errorf("message %d of job %d left sending", msg.ID, j.ID)
			default:
				g.other++
			}
		}
	}
	for _, bc := range m.ctxs {
		for _, s := range m.pool.Session(bc.SystemID).Sent() {
			get(groupOf(bc.ID, s.To, s.Text, sentName(s))).reached++
		}
		got, err := m.store.Context(bgm, bc.ID)
		if err == nil && got.Status == wasend.ContextBusy {
			m.rt.Errorf("context %d left busy", bc.ID)
		}
	}
	for k, g := range groups {
		switch {
		case g.reached > g.messages:
			m.rt.Errorf("context %d, %q (file %q) to %s: reached WhatsApp %d times for %d messages", k.ctx, k.text, k.media, k.to, g.reached, g.messages)
		case g.sent > g.reached:
			m.rt.Errorf("context %d, %q (file %q) to %s: %d recorded sent but only %d reached WhatsApp", k.ctx, k.text, k.media, k.to, g.sent, g.reached)
		case g.reached > g.sent+g.unknown+g.unconfirmed:
			m.rt.Errorf("context %d, %q (file %q) to %s: %d reached WhatsApp but only %d are sent, unknown or unconfirmed (%d failed, cancelled or pending)",
				k.ctx, k.text, k.media, k.to, g.reached, g.sent+g.unknown+g.unconfirmed, g.other)
		}
	}
	if m.rt.Failed() {
		m.report()
	}
}

// report logs every job and message, for a failed run.
func (m *modelRun) report() {
	var b strings.Builder
	for _, id := range m.allJobs() {
		j, err := m.store.Job(bgm, id)
		if err != nil {
			continue
		}
		fmt.Fprintf(&b, "job %d (%s, context %d): %s, attempts %d, error %s %q\n", j.ID, j.Kind, j.ContextID, j.Status, j.Attempts, j.ErrorKind, j.Error)
		for _, msg := range j.Messages {
			fmt.Fprintf(&b, "  message %d %q to %s: %s, attempts %d, lookups %d, mark %q, error %s %q\n",
				msg.ID, msg.Text, msg.To, msg.Status, msg.Attempts, msg.Lookups, msg.GuardMark, msg.ErrorKind, msg.Error)
		}
	}
	for _, bc := range m.ctxs {
		got, _ := m.store.Context(bgm, bc.ID)
		fmt.Fprintf(&b, "context %d: %s; reached WhatsApp:", bc.ID, got.Status)
		for _, s := range m.pool.Session(bc.SystemID).Sent() {
			fmt.Fprintf(&b, " %q to %s;", s.Text, s.To)
		}
		b.WriteString("\n")
	}
	m.rt.Log(b.String())
}
