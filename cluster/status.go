package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/raft"
	"go.uber.org/zap"
)

// readyLag is how many committed entries a follower may still have to
// apply and be ready.
const readyLag = 1000

// membershipTimeout bounds a join or removal.
const membershipTimeout = 30 * time.Second

// Status is what GET /api/v1/cluster answers: this node's view of the cluster.
type Status struct {
	Node         string `json:"node"`
	State        string `json:"state"` // leader, follower, candidate or shutdown
	Leader       string `json:"leader"`
	LeaderURL    string `json:"leader_api_url,omitempty"`
	Term         uint64 `json:"term"`
	CommitIndex  uint64 `json:"commit_index"`
	AppliedIndex uint64 `json:"applied_index"`
	LastContact  string `json:"last_contact,omitempty"` // a follower's time since it last heard from the leader
	// Problem is why this node does not serve (no quorum, no leader, still
	// catching up), as GET /-/ready says it; empty while it serves.
	Problem string       `json:"problem,omitempty"`
	Peers   []PeerStatus `json:"peers"`
}

// PeerStatus is one member of the raft configuration.
type PeerStatus struct {
	ID          string `json:"id"`
	RaftAddress string `json:"raft_address"`
	APIURL      string `json:"api_url,omitempty"`
	Suffrage    string `json:"suffrage"` // Voter, Nonvoter or Staging
}

// Status returns this node's view of the cluster.
func (n *Node) Status() Status {
	_, leader := n.raft.LeaderWithID()
	st := Status{
		Node:         n.opts.NodeID,
		State:        stateName(n.raft.State()),
		Leader:       string(leader),
		Term:         n.raft.CurrentTerm(),
		CommitIndex:  n.raft.CommitIndex(),
		AppliedIndex: n.raft.AppliedIndex(),
		Peers:        []PeerStatus{},
	}
	st.LeaderURL = n.memberURL(st.Leader)
	if err := n.Ready(); err != nil {
		st.Problem = err.Error()
	}
	if st.State == "follower" {
		if lc := n.raft.LastContact(); !lc.IsZero() {
			st.LastContact = time.Since(lc).Round(time.Millisecond).String()
		}
	}
	if f := n.raft.GetConfiguration(); f.Error() == nil {
		for _, s := range f.Configuration().Servers {
			url := n.memberURL(string(s.ID))
			st.Peers = append(st.Peers, PeerStatus{ID: string(s.ID), RaftAddress: string(s.Address), APIURL: url, Suffrage: s.Suffrage.String()})
		}
	}
	return st
}

// stateName is raft's state in lower case.
func stateName(s raft.RaftState) string {
	switch s {
	case raft.Leader:
		return "leader"
	case raft.Follower:
		return "follower"
	case raft.Candidate:
		return "candidate"
	default:
		return "shutdown"
	}
}

// Ready returns nil on the leader and on a follower that hears from a
// leader and has applied all but a few committed entries; otherwise why
// not: "no quorum" while an election cannot be won, "no leader" while a
// follower knows of none.
func (n *Node) Ready() error {
	switch n.raft.State() {
	case raft.Leader:
		return nil
	case raft.Candidate:
		return fmt.Errorf("no quorum: election in progress (term %d)", n.raft.CurrentTerm())
	case raft.Follower:
	default:
		return errors.New("no leader: raft is shut down")
	}
	if _, id := n.raft.LeaderWithID(); id == "" {
		return errors.New("no leader")
	}
	if lc := n.raft.LastContact(); time.Since(lc) > n.contactBound() {
		return fmt.Errorf("no leader: last heard from it %s ago", time.Since(lc).Round(time.Millisecond))
	}
	if commit, applied := n.raft.CommitIndex(), n.raft.AppliedIndex(); commit > applied+readyLag {
		return fmt.Errorf("catching up: applied %d of %d committed entries", applied, commit)
	}
	return nil
}

// contactBound is how long a follower may go without hearing from the
// leader and still count as having one.
func (n *Node) contactBound() time.Duration {
	return time.Duration(float64(3*time.Second) * n.opts.Timing)
}

// Leader returns the leader's id and API URL ("" while there is none).
func (n *Node) Leader() (id, apiURL string) {
	_, leader := n.raft.LeaderWithID()
	id = string(leader)
	apiURL = n.memberURL(id)
	return id, apiURL
}

// IsLeader reports whether this node leads.
func (n *Node) IsLeader() bool { return n.raft.State() == raft.Leader }

// NodeID is this node's id.
func (n *Node) NodeID() string { return n.opts.NodeID }

// VerifyLeader returns nil if this node still leads a majority now, for
// reads that must not be stale; otherwise an error wrapping
// journal.ErrUnavailable.
func (n *Node) VerifyLeader(ctx context.Context) error {
	if err := wait(ctx, n.raft.VerifyLeader()); err != nil {
		return n.unavailable(err)
	}
	return nil
}

// Join adds a node as a voter, recording its API URL first; only the leader can.
func (n *Node) Join(ctx context.Context, p Peer) error {
	if p.ID == "" || p.RaftAddress == "" {
		return errors.New("join: a node needs an id and a raft address")
	}
	if err := n.propose(ctx, encodeMember(member{ID: p.ID, URL: p.APIURL})); err != nil {
		return fmt.Errorf("join %s: %w", p.ID, err)
	}
	if err := wait(ctx, n.raft.AddVoter(raft.ServerID(p.ID), raft.ServerAddress(p.RaftAddress), 0, membershipTimeout)); err != nil {
		return fmt.Errorf("join %s: %w", p.ID, n.unavailable(err))
	}
	n.log.Info("node joined", zap.String("id", p.ID), zap.String("raft_address", p.RaftAddress))
	return nil
}

// Remove takes a node out of the cluster; only the leader can.
func (n *Node) Remove(ctx context.Context, id string) error {
	if id == "" {
		return errors.New("remove: no node id")
	}
	if err := wait(ctx, n.raft.RemoveServer(raft.ServerID(id), 0, membershipTimeout)); err != nil {
		return fmt.Errorf("remove %s: %w", id, n.unavailable(err))
	}
	if err := n.propose(ctx, encodeMember(member{ID: id})); err != nil {
		return fmt.Errorf("remove %s: %w", id, err)
	}
	n.log.Info("node removed", zap.String("id", id))
	return nil
}

// propose commits a command that is not a record.
func (n *Node) propose(ctx context.Context, cmd []byte) error {
	if n.raft.State() != raft.Leader {
		return ErrNotLeader
	}
	if err := wait(ctx, n.raft.Apply(cmd, 0)); err != nil {
		return n.unavailable(err)
	}
	return nil
}

// memberURL returns node id's API URL: as replicated (joins record it), else
// as this node's configuration lists it.
func (n *Node) memberURL(id string) string {
	if u, ok := n.fsm.memberURL(id); ok {
		return u
	}
	for _, p := range n.opts.Peers {
		if p.ID == id {
			return p.APIURL
		}
	}
	return ""
}

// publishPeers replicates the API URLs of the configured peers, which
// bootstrapping does not, so that nodes joined later can forward to any
// leader. It runs on the leader, proposing only what differs.
func (n *Node) publishPeers(ctx context.Context) {
	for _, p := range n.opts.Peers {
		if u, ok := n.fsm.memberURL(p.ID); (ok && u == p.APIURL) || p.APIURL == "" {
			continue
		}
		if err := n.propose(ctx, encodeMember(member{ID: p.ID, URL: p.APIURL})); err != nil {
			n.log.Warn("could not replicate a peer's API URL; the next leader tries again", zap.String("id", p.ID), zap.Error(err))
			return
		}
	}
}
