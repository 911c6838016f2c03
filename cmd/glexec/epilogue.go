package main

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/glexec-ng/glexec/internal/accounts"
	"github.com/glexec-ng/glexec/internal/epilogue"
	"github.com/glexec-ng/glexec/internal/failure"
	"github.com/glexec-ng/glexec/internal/privop"
)

// reasonEpilogueAccount: epilogue_user or epilogue_group does not exist.
const reasonEpilogueAccount failure.Reason = "epilogue-account"

// runEpilogue runs the configured epilogue after the payload (or the
// sandbox helper) pid, in process group pgid, ended with glexec exit
// status rc, and returns glexec's exit status: rc, or the epilogue's
// failure code.
func (inv *invocation) runEpilogue(p *payload, pid, pgid, rc int) int {
	c := inv.cfg
	as, trust, err := epilogueIdentity(c.EpilogueUser, c.EpilogueGroup)
	if err == nil {
		a := inv.acct
		info := epilogue.Info{
			Argv:      p.argv,
			Glexec:    epilogue.Who{User: inv.callerName, Group: inv.callerGroup, UID: inv.caller.UID, GID: inv.caller.GID, SGIDs: inv.caller.Groups},
			Target:    epilogue.Who{User: a.User, Group: groupName(a.PGIDs[0]), UID: a.UID, GID: a.PGIDs[0], SGIDs: a.SGIDs},
			GlexecPID: os.Getpid(), GlexecPGID: unix.Getpgrp(),
			TargetPID: pid, TargetPGID: pgid, TargetRC: rc,
		}
		info.GlexecSID, _ = unix.Getsid(0)
		err = epilogue.Run(epilogue.Spec{Path: c.Epilogue, As: as, Trust: trust, Timeout: c.EpilogueTimeout,
			Env: epilogue.Env(p.env, info)})
	}
	if err != nil {
		inv.log.Errorf("epilogue: %v", err)
		fmt.Fprintf(os.Stderr, "[gLExec]:  epilogue: %v\n", err)
		return epilogue.ExitCode(err)
	}
	inv.log.Infof("epilogue %s succeeded", c.Epilogue)
	return rc
}

// epilogueIdentity is who the epilogue runs as (epilogue_user, with
// epilogue_group as its only group when set, else the user's primary
// group) and who besides root may own or write it.
func epilogueIdentity(user, group string) (privop.Identity, epilogue.Trust, error) {
	u, err := accounts.System.LookupUser(user)
	if err != nil {
		return privop.Identity{}, epilogue.Trust{}, failure.Wrap(failure.System, reasonEpilogueAccount, "epilogue_user "+user, err)
	}
	id := privop.Identity{UID: u.UID, GID: u.GID}
	trust := epilogue.Trust{UID: u.UID, GID: -1}
	if group != "" {
		g, err := accounts.System.LookupGroup(group)
		if err != nil {
			return privop.Identity{}, epilogue.Trust{}, failure.Wrap(failure.System, reasonEpilogueAccount, "epilogue_group "+group, err)
		}
		id.GID, trust.GID = g.GID, g.GID
	}
	if id.UID != 0 || id.GID != 0 {
		id.Groups = []int{id.GID}
	}
	return id, trust, nil
}
