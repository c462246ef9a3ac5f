package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/internal/fakewa"
)

// campaign sends one list over both numbers with AllowMoves, bans the
// second number temporarily once it has sent its first message, and waits
// until its unsent messages have moved to the first number and everything
// went out. It prints the progress as it goes, and returns the campaign.
func campaign(ctx context.Context, client *wasend.Client, fake *fakewa.Server, contexts []wasend.BrowserContext) (wasend.Campaign, error) {
	var list []wasend.BulkMessage
	for i := range 8 {
		list = append(list, wasend.BulkMessage{To: fmt.Sprintf("+1415555%04d", 200+i),
			Text: fmt.Sprintf("Spring sale %d/8: 20%% off until Sunday.", i+1)})
	}
	pool := []int64{contexts[0].ID, contexts[1].ID}
	camp, err := client.SendCampaign(ctx, pool, list, wasend.AllowMoves(), wasend.IdempotencyKey("demo-spring-sale"))
	if err != nil {
		return camp, err
	}
	fmt.Printf("Campaign %d: %d messages over contexts %d and %d, split by each number's budget for new contacts:", camp.ID, len(list), pool[0], pool[1])
	for _, j := range camp.Jobs {
		fmt.Printf(" %d to context %d;", len(j.Messages), j.ContextID)
	}
	fmt.Println()
	banned := false
	last := ""
	for {
		camp, err = client.Campaign(ctx, camp.ID)
		if err != nil {
			return camp, err
		}
		n := camp.Counts()
		moved := 0
		for _, j := range camp.Jobs {
			for _, m := range j.Messages {
				if m.ErrorKind == wasend.ErrorKindMoved {
					moved++
				}
			}
		}
		line := fmt.Sprintf("  campaign %s: %d sent, %d waiting, %d moved", camp.Status(), n[wasend.MessageSent], n[wasend.MessagePending]+n[wasend.MessageSending], moved)
		if line != last {
			fmt.Printf("%s  (%s)\n", line, time.Now().Format("15:04:05"))
			last = line
		}
		if !banned && sentBy(camp, pool[1]) > 0 {
			fake.TemporaryBan(accounts[1], 104, time.Hour)
			banned = true
			fmt.Printf("  WhatsApp bans number %s of context %d for an hour: its unsent messages move to context %d.\n",
				wasend.MaskPhone("+"+accounts[1]), pool[1], pool[0])
		}
		if camp.Status().Final() {
			break
		}
		select {
		case <-ctx.Done():
			return camp, fmt.Errorf("campaign %d did not finish: %w", camp.ID, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	fake.LiftTemporaryBan(accounts[1])
	fmt.Println()
	return camp, nil
}

// sentBy counts the campaign's messages a context sent.
func sentBy(c wasend.Campaign, contextID int64) int {
	n := 0
	for _, j := range c.Jobs {
		for _, m := range j.Messages {
			if j.ContextID == contextID && m.Status == wasend.MessageSent {
				n++
			}
		}
	}
	return n
}

// checkCampaign counts the campaign's messages that did not reach
// WhatsApp exactly once from one of the numbers, as recorded.
func checkCampaign(c wasend.Campaign, fake *fakewa.Server) int {
	problems := 0
	for _, m := range c.Messages() {
		n := 0
		for _, from := range accounts {
			for _, r := range fake.Received(from, strings.TrimPrefix(m.To, "+")) {
				if r.Text == m.Text {
					n++
				}
			}
		}
		if m.Status != wasend.MessageSent || n != 1 {
			problems++
			fmt.Printf("campaign message %d to %s: WhatsApp received it %d times, status %s\n", m.ID, wasend.MaskPhone(m.To), n, m.Status)
		}
	}
	return problems
}
