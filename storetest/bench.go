package storetest

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/wasend/wasend"
)

// Bench measures the calls on the hot path of a send. newStore must return
// a fresh, empty, ready-to-use store, and release it in b.Cleanup.
//
// The Pipeline benchmark runs, from 4×GOMAXPROCS goroutines with a browser
// context each, what one message of a single job costs the store: CreateJob,
// Job, the claim (job, message and context in one step) and the outcome
// (likewise); it reports messages/s.
func Bench(b *testing.B, newStore func(b *testing.B) wasend.Store) {
	b.Run("CreateJob/1", func(b *testing.B) {
		s := newStore(b)
		bc := benchContext(b, s)
		in := job(bc.ID, wasend.KindSingle, 1)
		for b.Loop() {
			if _, err := s.CreateJob(b.Context(), in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("CreateJob/100", func(b *testing.B) {
		s := newStore(b)
		bc := benchContext(b, s)
		in := job(bc.ID, wasend.KindBulk, 100)
		for b.Loop() {
			if _, err := s.CreateJob(b.Context(), in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Job/1", func(b *testing.B) {
		s := newStore(b)
		bc := benchContext(b, s)
		j, err := s.CreateJob(b.Context(), job(bc.ID, wasend.KindSingle, 1))
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := s.Job(b.Context(), j.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Apply/Job", func(b *testing.B) {
		s := newStore(b)
		bc := benchContext(b, s)
		j, err := s.CreateJob(b.Context(), job(bc.ID, wasend.KindSingle, 1))
		if err != nil {
			b.Fatal(err)
		}
		claim := &wasend.JobTransition{ID: j.ID, From: pending, To: wasend.JobRunning, Claim: "w", AddAttempt: true}
		release := &wasend.JobTransition{ID: j.ID, From: running, IfClaim: "w", To: wasend.JobPending}
		i := 0
		for b.Loop() {
			t := claim
			if i%2 == 1 {
				t = release
			}
			i++
			if ok, err := s.Apply(b.Context(), wasend.Step{Job: t}); err != nil || !ok {
				b.Fatalf("Apply = %v, %v", ok, err)
			}
		}
	})
	b.Run("Apply/MessageAndContext", func(b *testing.B) {
		s := newStore(b)
		bc := benchContext(b, s)
		j, err := s.CreateJob(b.Context(), job(bc.ID, wasend.KindSingle, 1))
		if err != nil {
			b.Fatal(err)
		}
		mid := j.Messages[0].ID
		steps := []wasend.Step{{
			Message: &wasend.MessageTransition{ID: mid, From: msgPend, To: wasend.MessageSending, AddAttempt: true, StartAttempt: true},
			Context: &wasend.ContextTransition{ID: bc.ID, From: available, To: wasend.ContextBusy},
		}, {
			Message: &wasend.MessageTransition{ID: mid, From: msgSend, To: wasend.MessagePending, ClearGuard: true},
			Context: &wasend.ContextTransition{ID: bc.ID, From: busy, To: wasend.ContextAvailable},
		}}
		i := 0
		for b.Loop() {
			st := steps[i%2]
			i++
			if ok, err := s.Apply(b.Context(), st); err != nil || !ok {
				b.Fatalf("Apply = %v, %v", ok, err)
			}
		}
	})
	b.Run("Pipeline", func(b *testing.B) {
		s := newStore(b)
		var worker atomic.Int64
		// Workers of a real client wait on the network and the browser, so
		// there are more of them than cores; each has a context of its own,
		// as a context sends one message at a time.
		b.SetParallelism(4)
		b.RunParallel(func(pb *testing.PB) {
			claim := fmt.Sprintf("w%d", worker.Add(1))
			bc := benchContext(b, s)
			in := job(bc.ID, wasend.KindSingle, 1)
			for pb.Next() {
				benchMessage(b, s, in, claim)
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	})
}

func benchContext(b *testing.B, s wasend.Store) wasend.BrowserContext {
	bc, err := s.CreateContext(b.Context(), wasend.BrowserContext{Status: wasend.ContextAvailable})
	if err != nil {
		b.Fatal(err)
	}
	return bc
}

// benchMessage runs the store's share of one message of a single job.
func benchMessage(b *testing.B, s wasend.Store, in wasend.Job, claim string) {
	ctx := b.Context()
	j, err := s.CreateJob(ctx, in)
	if err != nil {
		b.Error(err)
		return
	}
	if j, err = s.Job(ctx, j.ID); err != nil {
		b.Error(err)
		return
	}
	mid := j.Messages[0].ID
	steps := []wasend.Step{{
		Job:     &wasend.JobTransition{ID: j.ID, From: pending, To: wasend.JobRunning, Claim: claim, AddAttempt: true},
		Message: &wasend.MessageTransition{ID: mid, From: msgPend, To: wasend.MessageSending, AddAttempt: true, StartAttempt: true},
		Context: &wasend.ContextTransition{ID: in.ContextID, From: []wasend.ContextStatus{wasend.ContextAvailable, wasend.ContextBusy}, To: wasend.ContextBusy},
	}, {
		Job:     &wasend.JobTransition{ID: j.ID, From: running, IfClaim: claim, To: wasend.JobCompleted},
		Message: &wasend.MessageTransition{ID: mid, From: msgSend, To: wasend.MessageSent, WAMessageID: "wamid", ClearGuard: true},
		Context: &wasend.ContextTransition{ID: in.ContextID, From: busy, To: wasend.ContextAvailable},
	}}
	for _, st := range steps {
		if ok, err := s.Apply(ctx, st); err != nil || !ok {
			b.Errorf("Apply(%s) = %v, %v", describe(st), ok, err)
			return
		}
	}
}
