/* Pods and containers from cgroup paths, as kubelet lays them out with the
 * cgroupfs and systemd drivers, and everything that is not one. */
#include <criterion/criterion.h>
#include <string.h>

#include "meta/k8s_cgroup.h"

#define UID "6f0c8a4e-7c7c-4f0e-9e2a-1b2c3d4e5f60"
#define UID_ "6f0c8a4e_7c7c_4f0e_9e2a_1b2c3d4e5f60"
#define CID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void expect(const char *path, enum k8s_qos qos, enum k8s_runtime rt, const char *cid)
{
	struct k8s_cgroup g;

	cr_assert_eq(k8s_cgroup_parse(path, strlen(path), &g), 1, "%s: not a pod", path);
	cr_expect_str_eq(g.pod_uid, UID, "%s", path);
	cr_expect_eq(g.qos, qos, "%s: qos %d", path, g.qos);
	cr_expect_eq(g.runtime, rt, "%s: runtime %d", path, g.runtime);
	cr_expect_str_eq(g.container_id, cid, "%s", path);
}

static void expect_none(const char *path)
{
	struct k8s_cgroup g;

	cr_expect_eq(k8s_cgroup_parse(path, strlen(path), &g), 0, "%s: taken for a pod", path);
}

Test(k8s_cgroup, cgroupfs_driver)
{
	expect("/kubepods/burstable/pod" UID "/" CID, K8S_QOS_BURSTABLE, K8S_RUNTIME_UNSAID, CID);
	expect("/kubepods/besteffort/pod" UID "/" CID, K8S_QOS_BESTEFFORT, K8S_RUNTIME_UNSAID, CID);
	expect("/kubepods/pod" UID "/" CID, K8S_QOS_GUARANTEED, K8S_RUNTIME_UNSAID, CID);
	expect("/kubepods/burstable/pod" UID, K8S_QOS_BURSTABLE, K8S_RUNTIME_UNSAID, "");
	expect("/kubepods/burstable/pod" UID "/", K8S_QOS_BURSTABLE, K8S_RUNTIME_UNSAID, "");
	/* under kubelet's --cgroup-root, and deeper cgroups inside a container */
	expect("/custom/root/kubepods/pod" UID "/" CID "/init.scope", K8S_QOS_GUARANTEED, K8S_RUNTIME_UNSAID, CID);
	/* ids written in capitals come out lowercase */
	expect("/kubepods/pod6F0C8A4E-7C7C-4F0E-9E2A-1B2C3D4E5F60/0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
	       K8S_QOS_GUARANTEED, K8S_RUNTIME_UNSAID, CID);
}

Test(k8s_cgroup, systemd_driver)
{
	expect("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_ ".slice/cri-containerd-" CID ".scope",
	       K8S_QOS_BURSTABLE, K8S_RUNTIME_CONTAINERD, CID);
	expect("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_ ".slice/crio-" CID ".scope",
	       K8S_QOS_BESTEFFORT, K8S_RUNTIME_CRIO, CID);
	expect("/kubepods.slice/kubepods-pod" UID_ ".slice/docker-" CID ".scope", K8S_QOS_GUARANTEED,
	       K8S_RUNTIME_DOCKER, CID);
	expect("/kubepods.slice/kubepods-pod" UID_ ".slice", K8S_QOS_GUARANTEED, K8S_RUNTIME_UNSAID, "");
	/* crio's monitor is in the pod, and no container */
	expect("/kubepods.slice/kubepods-pod" UID_ ".slice/crio-conmon-" CID ".scope", K8S_QOS_GUARANTEED,
	       K8S_RUNTIME_UNSAID, "");
	/* kind: a node in a container, kubelet's slices prefixed */
	expect("/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-burstable.slice/kubelet-kubepods-burstable-pod" UID_
	       ".slice/cri-containerd-" CID ".scope",
	       K8S_QOS_BURSTABLE, K8S_RUNTIME_CONTAINERD, CID);
}

Test(k8s_cgroup, not_a_pod)
{
	static const char *const none[] = {
		"", "/", "/system.slice/containerd.service", "/user.slice/user-0.slice/session-1.scope",
		"/kubepods", "/kubepods/burstable", "/kubepods/guaranteed/pod" UID,
		"/kubepods/burstable/pod" UID "x", "/kubepods/burstable/pod" UID_, "/kubepods/burstable/" UID,
		"/kubepods/burstable/pod6f0c8a4e-7c7c-4f0e-9e2a-1b2c3d4e5f6", "/kubepods/burstable/pod6f0c8a4e-7c7c-4f0e-9e2a1b2c3d4e5f60-",
		"/kubepods/burstable/podzf0c8a4e-7c7c-4f0e-9e2a-1b2c3d4e5f60",
		"/kubepods.slice", "/kubepods.slice/kubepods-burstable.slice",
		"/kubepods.slice/kubepods-pod" UID ".slice",
		"/kubepods.slice/kubepods-burstable.slice/kubepods-besteffort-pod" UID_ ".slice",
		"/kubepods.slice/kubepods-besteffort-pod" UID_ ".slice",
		"/kubepods.slice/other-pod" UID_ ".slice", "/xkubepods.slice/xkubepods-pod" UID_ ".slice",
		"/kubepods.slice/kubepods-pod" UID_ ".scope", "/notkubepods/pod" UID,
	};

	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++)
		expect_none(none[i]);
	cr_expect_eq(k8s_cgroup_parse(NULL, 0, &(struct k8s_cgroup){ 0 }), 0);
}

Test(k8s_cgroup, a_bad_container_part_leaves_the_pod)
{
	expect("/kubepods/pod" UID "/" CID "0", K8S_QOS_GUARANTEED, K8S_RUNTIME_UNSAID, "");
	expect("/kubepods/pod" UID "/not-a-container", K8S_QOS_GUARANTEED, K8S_RUNTIME_UNSAID, "");
	/* found by the fuzzer: a bad digit late in the id left its start behind */
	expect("/kubepods/pod" UID "/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abc`ef",
	       K8S_QOS_GUARANTEED, K8S_RUNTIME_UNSAID, "");
	expect("/kubepods.slice/kubepods-pod" UID_ ".slice/crio-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abc`ef.scope",
	       K8S_QOS_GUARANTEED, K8S_RUNTIME_UNSAID, "");
	expect("/kubepods.slice/kubepods-pod" UID_ ".slice/containerd-" CID ".scope", K8S_QOS_GUARANTEED,
	       K8S_RUNTIME_UNSAID, "");
	expect("/kubepods.slice/kubepods-pod" UID_ ".slice/cri-containerd-" CID ".slice", K8S_QOS_GUARANTEED,
	       K8S_RUNTIME_UNSAID, "");
}

Test(k8s_cgroup, a_nul_inside_is_no_path)
{
	static const char p[] = "/kubepods/pod" UID "\0/x";

	cr_expect_eq(k8s_cgroup_parse(p, sizeof(p) - 1, &(struct k8s_cgroup){ 0 }), 0);
	cr_expect_str_eq(k8s_runtime_name(K8S_RUNTIME_CRIO), "cri-o");
	cr_expect_null(k8s_runtime_name(K8S_RUNTIME_UNSAID));
}
