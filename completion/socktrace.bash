# bash completion for socktrace(1): commands, options, formats, and the
# words of fault rules (run -f, ctl). Installed as
# share/bash-completion/completions/socktrace. Needs nothing from the
# bash-completion package, so that tests/install can run it in a plain
# bash; the option lists follow each `socktrace CMD --help`, and that
# test fails when a --help gains an option missing here.

_socktrace_commands="run check view stats assert report cat ctl shim help version"

# The words a rule starts with: the calls (preload/core/calls.def) and
# their groups; the selectors, actions and flags that follow.
_socktrace_calls="socket socketpair bind listen accept accept4 connect shutdown close
	send sendto sendmsg sendmmsg write writev sendfile sendfile64 splice recv
	__recv_chk recvfrom __recvfrom_chk recvmsg recvmmsg read __read_chk readv
	getsockopt setsockopt getsockname getpeername dup dup2 dup3 fcntl getaddrinfo
	setup sends receives data teardown opt fd dns all"
_socktrace_rule_words="peer= local= port= host= prog= caller= when= prob= after= for=
	error= delay= jitter= short= reset close hang hang= corrupt= bandwidth= optional"
_socktrace_errnos="EACCES EADDRINUSE EADDRNOTAVAIL EAFNOSUPPORT EAGAIN EALREADY EBADF
	ECONNABORTED ECONNREFUSED ECONNRESET EDESTADDRREQ EFAULT EHOSTUNREACH EINPROGRESS
	EINTR EINVAL EIO EISCONN EMFILE EMSGSIZE ENETDOWN ENETUNREACH ENFILE ENOBUFS
	ENOMEM ENOTCONN ENOTSOCK EOPNOTSUPP EPERM EPIPE EPROTO EPROTONOSUPPORT
	EPROTOTYPE ETIMEDOUT EWOULDBLOCK EAI_AGAIN EAI_FAIL EAI_NONAME EAI_MEMORY
	EAI_FAMILY EAI_SOCKTYPE EAI_SERVICE EAI_BADFLAGS EAI_SYSTEM EAI_OVERFLOW"

# Options of each command, long and short, as its --help lists them.
_socktrace_filters="-p --pid -c --conn --fn --since --until -e --errors"
_socktrace_opts_run="-o --out -p --payload -f --fault -s --scenario --seed --backtrace
	--format --keep -q --quiet -h --help"
_socktrace_opts_check="-f --fault -q --quiet --json -h --help"
_socktrace_opts_view="-f --format -o --output -w --width --color --ascii -n --limit --gap
	--pids --no-pager --all --group --no-group --stacks --addr2line $_socktrace_filters
	-h --help"
_socktrace_opts_stats="$_socktrace_filters -a --all --by-caller --addr2line --json
	-o --output -h --help"
_socktrace_opts_assert="-q --quiet --json --color -h --help"
_socktrace_opts_report="-s --scenario -f --format -o --output -h --help"
_socktrace_opts_cat="--split -h --help"
_socktrace_opts_ctl="--all --prog --add --replace -f --file --disable --enable --clear
	--list --json --dir -t --timeout -q --quiet -h --help"
_socktrace_opts_shim="-h --help"
_socktrace_opts_help=""
_socktrace_opts_version=""

# Completes the rule being typed in $1 (inside its quotes: "connect err"):
# each candidate is the whole argument, the last word completed.
_socktrace_rule()
{
	local rule=$1 head= word=$1 words w
	if [[ $rule == *" "* ]]; then
		head=${rule% *}" "
		word=${rule##* }
	fi
	if [[ -z $head ]]; then
		# The calls: a comma-separated list, completed after its last comma.
		local done=
		[[ $word == *,* ]] && done=${word%,*},
		for w in $(compgen -W "$_socktrace_calls" -- "${word##*,}"); do
			COMPREPLY+=("$done$w")
		done
		_socktrace_nospace
		return
	fi
	case $word in
	error=*)
		words=$(compgen -W "$_socktrace_errnos" -- "${word#error=}")
		for w in $words; do COMPREPLY+=("${head}error=$w"); done
		;;
	*)
		for w in $(compgen -W "$_socktrace_rule_words" -- "$word"); do
			COMPREPLY+=("$head$w")
		done
		;;
	esac
	_socktrace_nospace
}

# A word still to be continued (error=, a call list's comma) takes no
# space after it. compopt works only inside a completion: quiet elsewhere.
_socktrace_nospace()
{
	if ((${#COMPREPLY[@]} == 1)) && [[ ${COMPREPLY[0]} == *[=,] ]]; then
		compopt -o nospace 2>/dev/null
	fi
	return 0
}

_socktrace_files()
{
	compopt -o filenames 2>/dev/null
	COMPREPLY=($(compgen "$1" -- "$2"))
}

_socktrace()
{
	local cur=$2 prev=$3 cmd i opts
	COMPREPLY=()
	if ((COMP_CWORD == 1)); then
		COMPREPLY=($(compgen -W "$_socktrace_commands --help --version" -- "$cur"))
		return
	fi
	cmd=${COMP_WORDS[1]}
	# --opt=VALUE: bash splits at '=', so the option is two words back.
	if [[ $prev == = ]] && ((COMP_CWORD >= 3)); then
		prev=${COMP_WORDS[COMP_CWORD - 2]}
	elif [[ $cur == --*=* ]]; then
		prev=${cur%%=*}
		cur=${cur#*=}
	fi
	# socktrace run ... -- CMD: the command and its own arguments.
	if [[ $cmd == run ]]; then
		for ((i = 2; i < COMP_CWORD; i++)); do
			if [[ ${COMP_WORDS[i]} == -- ]]; then
				if ((i + 1 == COMP_CWORD)); then
					COMPREPLY=($(compgen -c -- "$cur"))
				else
					_socktrace_files -f "$cur"
				fi
				return
			fi
		done
	fi
	# The argument of an option.
	case $cmd:$prev in
	view:-f | view:--format)
		COMPREPLY=($(compgen -W "text html mermaid perfetto jsonl" -- "$cur"))
		return ;;
	report:-f | report:--format)
		COMPREPLY=($(compgen -W "markdown junit" -- "$cur"))
		return ;;
	run:--format)
		COMPREPLY=($(compgen -W "binary jsonl" -- "$cur"))
		return ;;
	*:--color)
		COMPREPLY=($(compgen -W "auto always never" -- "$cur"))
		return ;;
	run:--backtrace)
		COMPREPLY=($(compgen -W "errors errors:16 16 32 64" -- "$cur"))
		return ;;
	*:--addr2line)
		COMPREPLY=($(compgen -c -W none -- "$cur"))
		return ;;
	run:-f | run:--fault | check:-f | check:--fault)
		_socktrace_rule "$cur"
		return ;;
	ctl:--disable | ctl:--enable)
		COMPREPLY=($(compgen -W "all" -- "$cur"))
		return ;;
	run:-o | run:--out | cat:--split | ctl:--dir)
		_socktrace_files -d "$cur"
		return ;;
	*:-s | *:--scenario | ctl:-f | ctl:--file | *:-o | *:--output)
		_socktrace_files -f "$cur"
		return ;;
	*:-p | *:--payload | *:--pid | *:-c | *:--conn | *:--fn | *:--since | *:--until | \
	*:-w | *:--width | *:-n | *:--limit | *:--gap | *:--seed | ctl:--prog | *:-t | *:--timeout)
		return ;;
	esac
	if [[ $cmd == help ]]; then
		((COMP_CWORD == 2)) && COMPREPLY=($(compgen -W "$_socktrace_commands" -- "$cur"))
		return
	fi
	opts=_socktrace_opts_$cmd
	if [[ ! $cmd =~ ^[a-z]+$ ]] || [[ -z ${!opts+set} ]]; then
		return
	fi
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "${!opts}" -- "$cur"))
		return
	fi
	case $cmd in
	ctl)
		# Rules for the processes named before: the words of a rule.
		if [[ $cur == *" "* || $cur == [a-z_]* ]]; then
			_socktrace_rule "$cur"
		fi ;;
	shim | version) ;;
	*)
		# Traces, scenario files.
		_socktrace_files -f "$cur" ;;
	esac
}

complete -F _socktrace socktrace
