package wasend

func (c *Client) liveContexts() []*liveContext {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*liveContext, 0, len(c.live))
	for _, lc := range c.live {
		out = append(out, lc)
	}
	return out
}

func (c *Client) liveContext(id int64) *liveContext {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.live[id]
}
