package redisqueue

import "context"

// Purge implements wasend.Purger: it drops every delivery that the queue
// holds for the browser context, waiting, delayed and in flight, from any
// process. It deletes the context's stream and sorted set with one DEL (the
// keys share a hash tag, so this works on a Redis Cluster); deleting the
// stream also deletes its consumer group and the group's pending entries,
// which taskq's own Purge leaves behind (#143). The lease of the context is
// left alone.
//
// Purge is safe while the context is consumed, here or in another process:
// the consumer recreates the stream and its group on its next read and goes
// on with what is enqueued later; the handlers in flight finish, and their
// deliveries are neither retried nor dead-lettered, nor is the delivery
// that the consumer took but had not handed to a handler yet (see the
// package doc). Purging a context that is no longer consumed leaves no key
// behind; a consumer that still runs leaves an empty stream and its group.
// Redis errors wrap wasend.ErrQueue.
func (q *Queue) Purge(ctx context.Context, contextID int64) error {
	if err := q.begin("Purge"); err != nil {
		return err
	}
	defer q.end()
	name := q.queueName(contextID)
	if err := q.rdb.Del(ctx, streamKey(name), zsetKey(name)).Err(); err != nil {
		return queueErr("Purge "+name, err)
	}
	q.mu.Lock()
	if _, consumed := q.consumers[contextID]; !consumed {
		delete(q.known, contextID) // Stats need not look at it any more
	}
	q.mu.Unlock()
	q.log.Debug("purged", "queue", name, "context_id", contextID)
	return nil
}
