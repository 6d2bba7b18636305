#include "capture/privilege.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Beyond the last one this kernel knows, PR_CAPBSET_READ fails; 64 bounds
 * the loops whatever the kernel. */
#define CAP_MAX_BITS 64

static const char *const cap_names[] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
	"CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE",
	"CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT",
	"CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
	"CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
	"CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
};

struct caps {
	uint64_t eff, prm, inh;
};

static int caps_get(struct caps *c)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = {};

	if (syscall(SYS_capget, &h, d))
		return -1;
	c->eff = d[0].effective | (uint64_t)d[1].effective << 32;
	c->prm = d[0].permitted | (uint64_t)d[1].permitted << 32;
	c->inh = d[0].inheritable | (uint64_t)d[1].inheritable << 32;
	return 0;
}

static int caps_set(const struct caps *c)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = {
		{ (uint32_t)c->eff, (uint32_t)c->prm, (uint32_t)c->inh },
		{ (uint32_t)(c->eff >> 32), (uint32_t)(c->prm >> 32), (uint32_t)(c->inh >> 32) },
	};

	return (int)syscall(SYS_capset, &h, d);
}

bool privilege_has(int c)
{
	struct caps k;

	return caps_get(&k) == 0 && (k.eff & PRIV_BIT(c));
}

int privilege_check_load(char *err, size_t cap)
{
	struct caps c;
	bool bpf, perfmon;

	if (caps_get(&c)) {
		snprintf(err, cap, "cannot read capabilities: %s", strerror(errno));
		return -1;
	}
	bpf = c.eff & PRIV_BIT(CAP_BPF);
	perfmon = c.eff & PRIV_BIT(CAP_PERFMON);
	if ((bpf && perfmon) || (c.eff & PRIV_BIT(CAP_SYS_ADMIN)))
		return 0;
	snprintf(err, cap, "cannot load the eBPF programs: missing %s%s%s %s%s", bpf ? "" : "CAP_BPF",
		 !bpf && !perfmon ? " and " : "", perfmon ? "" : "CAP_PERFMON",
		 bpf ? "(have CAP_BPF)" : perfmon ? "(have CAP_PERFMON)" : "(or CAP_SYS_ADMIN)",
		 geteuid() == 0 ? "" : "; run it as root");
	return -1;
}

int privilege_lower(uint64_t keep)
{
	struct caps c;

	if (caps_get(&c))
		return -1;
	c.eff = keep & c.prm;
	return caps_set(&c);
}

int privilege_drop(uint64_t keep, uint64_t *kept, uint64_t *bounding, char *err, size_t cap)
{
	struct caps c;
	const char *step = "capget";

	if (caps_get(&c))
		goto fail;
	keep &= c.prm;
	/* Emptying the bounding set takes CAP_SETPCAP, effective; it goes next. */
	if (c.prm & PRIV_BIT(CAP_SETPCAP)) {
		c.eff |= PRIV_BIT(CAP_SETPCAP);
		step = "capset";
		if (caps_set(&c))
			goto fail;
		step = "PR_CAPBSET_DROP";
		for (int i = 0; i < CAP_MAX_BITS && prctl(PR_CAPBSET_READ, i, 0, 0, 0) >= 0; i++)
			if (!(keep & PRIV_BIT(i)) && prctl(PR_CAPBSET_DROP, i, 0, 0, 0))
				goto fail;
	}
	/* Ambient capabilities would survive an execve; kernels before 4.3 have none (EINVAL). */
	step = "PR_CAP_AMBIENT_CLEAR_ALL";
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) && errno != EINVAL)
		goto fail;
	c = (struct caps){ .eff = keep, .prm = keep };
	step = "capset";
	if (caps_set(&c))
		goto fail;
	/* An execve (by a library, or by code that took over) gains nothing back. */
	step = "PR_SET_NO_NEW_PRIVS";
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		goto fail;
	*kept = keep;
	*bounding = 0;
	for (int i = 0; i < CAP_MAX_BITS && prctl(PR_CAPBSET_READ, i, 0, 0, 0) >= 0; i++)
		if (prctl(PR_CAPBSET_READ, i, 0, 0, 0) == 1)
			*bounding |= PRIV_BIT(i);
	return 0;
fail:
	snprintf(err, cap, "cannot drop capabilities (%s): %s", step, strerror(errno));
	return -1;
}

void privilege_names(uint64_t set, char *out, size_t cap)
{
	size_t n = 0;

	snprintf(out, cap, "none");
	for (int i = 0; i < CAP_MAX_BITS && n < cap; i++) {
		if (!(set & PRIV_BIT(i)))
			continue;
		if (i < (int)(sizeof(cap_names) / sizeof(cap_names[0])))
			n += (size_t)snprintf(out + n, cap - n, "%s%s", n ? ", " : "", cap_names[i]);
		else
			n += (size_t)snprintf(out + n, cap - n, "%sCAP_%d", n ? ", " : "", i);
	}
}
