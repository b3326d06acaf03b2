// MIB counter list, in the order of the Linux kernel's MPTcpExt list
// (/proc/net/netstat on Linux 6.18); append new counters at the end.

package mptcp

// MIB counters, named like the Linux kernel's MPTcpExt* counters without the
// prefix (and with Mib in front, so they do not clash with option types).
// Counter.Name returns the kernel's full name. The order is the kernel's
// (Linux 6.18, /proc/net/netstat).
const (
	// MibMPCapableSYNRX: received a SYN with MP_CAPABLE.
	MibMPCapableSYNRX Counter = iota
	// MibMPCapableSYNTX: sent a SYN with MP_CAPABLE.
	MibMPCapableSYNTX
	// MibMPCapableSYNACKRX: received a SYN/ACK with MP_CAPABLE.
	MibMPCapableSYNACKRX
	// MibMPCapableACKRX: received the third ACK with MP_CAPABLE.
	MibMPCapableACKRX
	// MibMPCapableFallbackACK: server-side fallback to TCP during the 3-way handshake.
	MibMPCapableFallbackACK
	// MibMPCapableFallbackSYNACK: client-side fallback to TCP during the 3-way handshake.
	MibMPCapableFallbackSYNACK
	// MibMPCapableSYNTXDrop: client-side fallback after the SYN with MP_CAPABLE was dropped.
	MibMPCapableSYNTXDrop
	// MibMPCapableSYNTXDisabled: client-side MP_CAPABLE disabled after repeated drops.
	MibMPCapableSYNTXDisabled
	// MibMPCapableEndpAttempt: connection attempt to an MPTCP endpoint address.
	MibMPCapableEndpAttempt
	// MibMPFallbackTokenInit: could not allocate a token: fell back to TCP.
	MibMPFallbackTokenInit
	// MibMPTCPRetrans: segments retransmitted at the MPTCP level.
	MibMPTCPRetrans
	// MibMPJoinNoTokenFound: received MP_JOIN whose token matched no connection.
	MibMPJoinNoTokenFound
	// MibMPJoinSynRx: received a SYN with MP_JOIN.
	MibMPJoinSynRx
	// MibMPJoinSynBackupRx: received a SYN with MP_JOIN and the backup flag.
	MibMPJoinSynBackupRx
	// MibMPJoinSynAckRx: received a SYN/ACK with MP_JOIN.
	MibMPJoinSynAckRx
	// MibMPJoinSynAckBackupRx: received a SYN/ACK with MP_JOIN and the backup flag.
	MibMPJoinSynAckBackupRx
	// MibMPJoinSynAckHMacFailure: the HMAC in a SYN/ACK with MP_JOIN was wrong.
	MibMPJoinSynAckHMacFailure
	// MibMPJoinAckRx: received the third ACK with MP_JOIN.
	MibMPJoinAckRx
	// MibMPJoinAckHMacFailure: the HMAC in the third ACK with MP_JOIN was wrong.
	MibMPJoinAckHMacFailure
	// MibMPJoinRejected: an MP_JOIN was rejected by the path manager.
	MibMPJoinRejected
	// MibMPJoinSynTx: sent a SYN with MP_JOIN.
	MibMPJoinSynTx
	// MibMPJoinSynTxCreatSkErr: could not create the socket for an MP_JOIN SYN.
	MibMPJoinSynTxCreatSkErr
	// MibMPJoinSynTxBindErr: could not bind the socket for an MP_JOIN SYN.
	MibMPJoinSynTxBindErr
	// MibMPJoinSynTxConnectErr: could not connect the socket for an MP_JOIN SYN.
	MibMPJoinSynTxConnectErr
	// MibDSSNotMatching: received a new mapping that did not match the previous one.
	MibDSSNotMatching
	// MibDSSCorruptionFallback: DSS corruption detected: fell back to TCP.
	MibDSSCorruptionFallback
	// MibDSSCorruptionReset: DSS corruption detected: subflow reset.
	MibDSSCorruptionReset
	// MibInfiniteMapTx: sent an infinite mapping.
	MibInfiniteMapTx
	// MibInfiniteMapRx: received an infinite mapping.
	MibInfiniteMapRx
	// MibDSSNoMatchTCP: DSS mapping did not match the TCP sequence space.
	MibDSSNoMatchTCP
	// MibDataCsumErr: DSS checksum failed.
	MibDataCsumErr
	// MibOFOQueueTail: segments appended to the tail of the out-of-order queue.
	MibOFOQueueTail
	// MibOFOQueue: segments inserted into the out-of-order queue.
	MibOFOQueue
	// MibOFOMerge: segments merged in the out-of-order queue.
	MibOFOMerge
	// MibNoDSSInWindow: segments whose DSN lies outside the receive window.
	MibNoDSSInWindow
	// MibDuplicateData: segments dropped because their data was already received.
	MibDuplicateData
	// MibAddAddr: received ADD_ADDR with the echo flag clear.
	MibAddAddr
	// MibAddAddrTx: sent ADD_ADDR with the echo flag clear.
	MibAddAddrTx
	// MibAddAddrTxDrop: could not send ADD_ADDR (no option space or resources).
	MibAddAddrTxDrop
	// MibEchoAdd: received ADD_ADDR with the echo flag set.
	MibEchoAdd
	// MibEchoAddTx: sent ADD_ADDR with the echo flag set.
	MibEchoAddTx
	// MibEchoAddTxDrop: could not send an ADD_ADDR echo.
	MibEchoAddTxDrop
	// MibPortAdd: received ADD_ADDR with a port.
	MibPortAdd
	// MibAddAddrDrop: dropped a received ADD_ADDR (limits reached or bad HMAC).
	MibAddAddrDrop
	// MibMPJoinPortSynRx: received a SYN with MP_JOIN on a port announced by ADD_ADDR.
	MibMPJoinPortSynRx
	// MibMPJoinPortSynAckRx: received a SYN/ACK with MP_JOIN from an announced port.
	MibMPJoinPortSynAckRx
	// MibMPJoinPortAckRx: received the third ACK with MP_JOIN on an announced port.
	MibMPJoinPortAckRx
	// MibMismatchPortSynRx: received a SYN with MP_JOIN on a port that was not announced.
	MibMismatchPortSynRx
	// MibMismatchPortAckRx: received the third ACK with MP_JOIN on a port that was not announced.
	MibMismatchPortAckRx
	// MibRmAddr: address ids removed by received REMOVE_ADDR.
	MibRmAddr
	// MibRmAddrDrop: dropped a received REMOVE_ADDR.
	MibRmAddrDrop
	// MibRmAddrTx: address ids sent in REMOVE_ADDR.
	MibRmAddrTx
	// MibRmAddrTxDrop: could not send REMOVE_ADDR.
	MibRmAddrTxDrop
	// MibRmSubflow: subflows removed.
	MibRmSubflow
	// MibMPPrioTx: sent MP_PRIO.
	MibMPPrioTx
	// MibMPPrioRx: received MP_PRIO.
	MibMPPrioRx
	// MibMPFailTx: sent MP_FAIL.
	MibMPFailTx
	// MibMPFailRx: received MP_FAIL.
	MibMPFailRx
	// MibMPFastcloseTx: sent MP_FASTCLOSE.
	MibMPFastcloseTx
	// MibMPFastcloseRx: received MP_FASTCLOSE.
	MibMPFastcloseRx
	// MibMPRstTx: sent MP_TCPRST.
	MibMPRstTx
	// MibMPRstRx: received MP_TCPRST.
	MibMPRstRx
	// MibSubflowStale: subflows marked stale.
	MibSubflowStale
	// MibSubflowRecover: stale subflows that recovered.
	MibSubflowRecover
	// MibSndWndShared: subflow send windows that had to be shared.
	MibSndWndShared
	// MibRcvWndShared: receive window updates taken from another subflow.
	MibRcvWndShared
	// MibRcvWndConflictUpdate: receive window conflicts resolved by updating.
	MibRcvWndConflictUpdate
	// MibRcvWndConflict: receive window conflicts between subflows.
	MibRcvWndConflict
	// MibMPCurrEstab: connections currently established (a gauge).
	MibMPCurrEstab
	// MibBlackhole: MPTCP blackholes detected.
	MibBlackhole
	// MibMPCapableDataFallback: fallback to TCP because the first data had no MPTCP option.
	MibMPCapableDataFallback
	// MibMD5SigFallback: fallback to TCP because of TCP-MD5 signatures.
	MibMD5SigFallback
	// MibDssFallback: fallback to TCP because of a bad DSS.
	MibDssFallback
	// MibSimultConnectFallback: fallback to TCP on a simultaneous connect.
	MibSimultConnectFallback
	// MibFallbackFailed: fallback to TCP was needed but not possible.
	MibFallbackFailed
	// MibWinProbe: MPTCP-level zero-window probes sent.
	MibWinProbe

	// NumCounters is the number of MIB counters.
	NumCounters
)

var counterNames = [NumCounters]string{
	"MPTcpExtMPCapableSYNRX",
	"MPTcpExtMPCapableSYNTX",
	"MPTcpExtMPCapableSYNACKRX",
	"MPTcpExtMPCapableACKRX",
	"MPTcpExtMPCapableFallbackACK",
	"MPTcpExtMPCapableFallbackSYNACK",
	"MPTcpExtMPCapableSYNTXDrop",
	"MPTcpExtMPCapableSYNTXDisabled",
	"MPTcpExtMPCapableEndpAttempt",
	"MPTcpExtMPFallbackTokenInit",
	"MPTcpExtMPTCPRetrans",
	"MPTcpExtMPJoinNoTokenFound",
	"MPTcpExtMPJoinSynRx",
	"MPTcpExtMPJoinSynBackupRx",
	"MPTcpExtMPJoinSynAckRx",
	"MPTcpExtMPJoinSynAckBackupRx",
	"MPTcpExtMPJoinSynAckHMacFailure",
	"MPTcpExtMPJoinAckRx",
	"MPTcpExtMPJoinAckHMacFailure",
	"MPTcpExtMPJoinRejected",
	"MPTcpExtMPJoinSynTx",
	"MPTcpExtMPJoinSynTxCreatSkErr",
	"MPTcpExtMPJoinSynTxBindErr",
	"MPTcpExtMPJoinSynTxConnectErr",
	"MPTcpExtDSSNotMatching",
	"MPTcpExtDSSCorruptionFallback",
	"MPTcpExtDSSCorruptionReset",
	"MPTcpExtInfiniteMapTx",
	"MPTcpExtInfiniteMapRx",
	"MPTcpExtDSSNoMatchTCP",
	"MPTcpExtDataCsumErr",
	"MPTcpExtOFOQueueTail",
	"MPTcpExtOFOQueue",
	"MPTcpExtOFOMerge",
	"MPTcpExtNoDSSInWindow",
	"MPTcpExtDuplicateData",
	"MPTcpExtAddAddr",
	"MPTcpExtAddAddrTx",
	"MPTcpExtAddAddrTxDrop",
	"MPTcpExtEchoAdd",
	"MPTcpExtEchoAddTx",
	"MPTcpExtEchoAddTxDrop",
	"MPTcpExtPortAdd",
	"MPTcpExtAddAddrDrop",
	"MPTcpExtMPJoinPortSynRx",
	"MPTcpExtMPJoinPortSynAckRx",
	"MPTcpExtMPJoinPortAckRx",
	"MPTcpExtMismatchPortSynRx",
	"MPTcpExtMismatchPortAckRx",
	"MPTcpExtRmAddr",
	"MPTcpExtRmAddrDrop",
	"MPTcpExtRmAddrTx",
	"MPTcpExtRmAddrTxDrop",
	"MPTcpExtRmSubflow",
	"MPTcpExtMPPrioTx",
	"MPTcpExtMPPrioRx",
	"MPTcpExtMPFailTx",
	"MPTcpExtMPFailRx",
	"MPTcpExtMPFastcloseTx",
	"MPTcpExtMPFastcloseRx",
	"MPTcpExtMPRstTx",
	"MPTcpExtMPRstRx",
	"MPTcpExtSubflowStale",
	"MPTcpExtSubflowRecover",
	"MPTcpExtSndWndShared",
	"MPTcpExtRcvWndShared",
	"MPTcpExtRcvWndConflictUpdate",
	"MPTcpExtRcvWndConflict",
	"MPTcpExtMPCurrEstab",
	"MPTcpExtBlackhole",
	"MPTcpExtMPCapableDataFallback",
	"MPTcpExtMD5SigFallback",
	"MPTcpExtDssFallback",
	"MPTcpExtSimultConnectFallback",
	"MPTcpExtFallbackFailed",
	"MPTcpExtWinProbe",
}
