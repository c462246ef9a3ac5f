package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/internal/fakewa"
)

// receiptsAndOptOut shows what comes back from WhatsApp: a message's ticks
// followed from sent to delivered to read (the contact reads it on the
// imitation's phone), and a contact who answers STOP, which suppresses the
// number: the next Send to it is refused before anything is written. It
// returns an error when one of those does not happen.
func receiptsAndOptOut(ctx context.Context, client *wasend.Client, fake *fakewa.Server, contexts []wasend.BrowserContext) error {
	const to = "+54 9 11 5555-0103"
	phone, _ := wasend.NormalizePhone(to)
	job, err := client.Send(ctx, contexts[0].ID, to, "Your table for 2 is booked for 21:00.",
		wasend.IdempotencyKey("demo-receipt"))
	if err != nil {
		return err
	}
	fmt.Printf("Receipts: message to %s (job %d)\n", wasend.MaskPhone(phone), job.ID)
	shown := map[string]bool{}
	step := func(what string, at time.Time, since time.Time) {
		if !shown[what] {
			shown[what] = true
			fmt.Printf("  %-9s at %s (+%v)\n", what, at.Format("15:04:05.000"), at.Sub(since).Round(time.Millisecond))
		}
	}
	read := false
	deadline := time.Now().Add(90 * time.Second)
	for {
		j, err := client.Job(ctx, job.ID)
		if err != nil {
			return err
		}
		m := j.Messages[0]
		if !m.SentAt.IsZero() {
			step("sent", m.SentAt, m.SentAt)
		}
		if !m.DeliveredAt.IsZero() {
			step("delivered", m.DeliveredAt, m.SentAt)
			if !read {
				// The contact opens the chat on their phone.
				read = true
				fake.ReadBy(accounts[0], strings.TrimPrefix(phone, "+"))
			}
		}
		if !m.ReadAt.IsZero() {
			step("read", m.ReadAt, m.SentAt)
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("message %d: no read receipt within 90 s (sent %v, delivered %v)", m.ID,
				!m.SentAt.IsZero(), !m.DeliveredAt.IsZero())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}

	// A contact answers STOP to the second number.
	const customer = "+54 9 11 5555-0104"
	cphone, _ := wasend.NormalizePhone(customer)
	if _, err := fake.Incoming(accounts[1], strings.TrimPrefix(cphone, "+"), "Stop, please. No more messages."); err != nil {
		return err
	}
	fmt.Printf("\nOpt-out: %s wrote \"Stop, please. No more messages.\" to context %d\n", wasend.MaskPhone(cphone), contexts[1].ID)
	deadline = time.Now().Add(60 * time.Second)
	for {
		sup, err := client.Suppressions(ctx, wasend.SuppressionFilter{})
		if err != nil {
			return err
		}
		found := false
		for _, s := range sup {
			if s.Phone == cphone {
				found = true
				fmt.Printf("  suppressed (%s, through context %d)\n", s.Reason, s.ContextID)
			}
		}
		if found {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the STOP reply did not suppress %s within 60 s", wasend.MaskPhone(cphone))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	in, err := client.Inbox(ctx, wasend.InboxFilter{ContextID: contexts[1].ID, From: cphone})
	if err != nil {
		return err
	}
	if len(in) != 1 || !in[0].OptOut {
		return fmt.Errorf("the inbox holds %d messages from %s, want the one STOP", len(in), wasend.MaskPhone(cphone))
	}
	if got := fake.ReadByAccount(accounts[1], strings.TrimPrefix(cphone, "+")); len(got) != 0 {
		return fmt.Errorf("reading the STOP marked it read on the contact's phone (%d messages)", len(got))
	}
	fmt.Printf("  in the inbox, read without marking it read on the contact's phone\n")
	_, err = client.Send(ctx, contexts[1].ID, customer, "One more offer!")
	if !errors.Is(err, wasend.ErrSuppressed) {
		return fmt.Errorf("a Send to a suppressed number: err = %v, want ErrSuppressed", err)
	}
	fmt.Printf("  a new Send to it is refused before anything is written: %v\n\n", err)
	return nil
}
