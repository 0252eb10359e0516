package networkpolicy

// Added by tools/kube-network-policies/build.sh (not upstream).
//
// Upstream queues packets to the userspace policy engine with nftables' native
// `queue` expression, which needs the kernel's nft_queue (CONFIG_NFT_QUEUE).
// Kernels built without it (the VMs this project runs on) reject that rule with
// ENOENT. The x_tables NFQUEUE target reached through nft_compat
// (CONFIG_NFT_COMPAT + CONFIG_NETFILTER_XT_TARGET_NFQUEUE) hands packets to the
// same nfnetlink queue, so the agent behaves identically.

import (
	"encoding/binary"

	"github.com/google/nftables/expr"
	"github.com/google/nftables/xt"
)

// xt_NFQ_info_v3 flags (include/uapi/linux/netfilter/xt_NFQUEUE.h).
const nfqFlagBypass = 0x01

// nfqueueTarget is `-j NFQUEUE --queue-num num [--queue-bypass]` as an nft expression.
func nfqueueTarget(num uint16, bypass bool) expr.Any {
	// struct xt_NFQ_info_v3 { __u16 queuenum; __u16 queues_total; __u16 flags; },
	// padded to XT_ALIGN (8), in host byte order.
	info := make(xt.Unknown, 8)
	binary.NativeEndian.PutUint16(info[0:], num)
	binary.NativeEndian.PutUint16(info[2:], 1)
	if bypass {
		binary.NativeEndian.PutUint16(info[4:], nfqFlagBypass)
	}
	return &expr.Target{Name: "NFQUEUE", Rev: 3, Info: &info}
}
