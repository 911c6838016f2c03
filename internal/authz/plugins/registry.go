package plugins

import (
	"github.com/glexec-ng/glexec/internal/authz/policy"
	"github.com/glexec-ng/glexec/internal/authz/xacmlplugin"
)

// Registry returns the compiled-in plugins under their LCMAPS module names.
func Registry() policy.Registry {
	return policy.Registry{
		"lcmaps_verify_proxy.mod":      newVerifyProxy,
		"lcmaps_localaccount.mod":      newLocalAccount,
		"lcmaps_poolaccount.mod":       newPoolAccount,
		"lcmaps_ban_dn.mod":            newBanDN,
		"lcmaps_ban_fqan.mod":          newBanFQAN,
		"lcmaps_voms_localgroup.mod":   newVOMSLocalGroup,
		"lcmaps_voms_poolgroup.mod":    newVOMSPoolGroup,
		"lcmaps_voms_localaccount.mod": newVOMSLocalAccount,
		"lcmaps_voms_poolaccount.mod":  newVOMSPoolAccount,
		"lcmaps_posix_enf.mod":         newPosixEnf,
		"lcmaps_dummy_good.mod":        newDummyGood,
		"lcmaps_dummy_bad.mod":         newDummyBad,
		"lcmaps_glexec_tracking.mod":   newGlexecTracking,
		xacmlplugin.ModuleSCAS:         xacmlplugin.NewSCASClient,
		xacmlplugin.ModuleGUMS:         xacmlplugin.NewSCASClient,
	}
}
