//! `weir completions bash|zsh|fish`: completion scripts written from the clap definitions
//! themselves (every subcommand, its long flags, and the values of flags that take a fixed
//! set), so they never drift from the parser. Without `clap_complete`: what it would add
//! (short flags, file-name hints) does not pay for a new dependency here; zsh uses the bash
//! script through `bashcompinit`.

use clap::ValueEnum;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

/// One command of the tree: its path (`weir topics describe`), subcommands and flags.
struct Node {
    path: String,
    subcommands: Vec<(String, String)>,
    /// (long name, help, takes a value, possible values)
    flags: Vec<(String, String, bool, Vec<String>)>,
    /// The fixed values of positional arguments (`bash`, `zsh`, `fish`).
    values: Vec<String>,
}

fn walk(cmd: &clap::Command, path: String, out: &mut Vec<Node>) {
    let subcommands = cmd
        .get_subcommands()
        .map(|s| (s.get_name().to_string(), first_line(s.get_about())))
        .collect();
    let flags = cmd
        .get_arguments()
        .filter_map(|a| {
            let long = a.get_long()?;
            let values: Vec<String> = a
                .get_possible_values()
                .iter()
                .filter(|v| !v.is_hide_set())
                .map(|v| v.get_name().to_string())
                .collect();
            Some((
                long.to_string(),
                first_line(a.get_help()),
                a.get_action().takes_values(),
                values,
            ))
        })
        .collect();
    let values = cmd
        .get_positionals()
        .flat_map(|a| a.get_possible_values())
        .filter(|v| !v.is_hide_set())
        .map(|v| v.get_name().to_string())
        .collect();
    out.push(Node {
        path: path.clone(),
        subcommands,
        flags,
        values,
    });
    // `help SUBCOMMAND` completes one level deep only.
    for s in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        walk(s, format!("{path} {}", s.get_name()), out);
    }
}

/// The first sentence of a help text, for a completion's description.
fn first_line(s: Option<&clap::builder::StyledStr>) -> String {
    let text = s.map(|s| s.to_string()).unwrap_or_default();
    let text = text.split("\n\n").next().unwrap_or("").replace('\n', " ");
    match text.split_once(". ") {
        Some((first, _)) => first.to_string(),
        None => text.trim_end_matches('.').to_string(),
    }
}

/// The completion script for `shell`, from the whole command definition.
pub fn script(shell: Shell, mut cmd: clap::Command) -> String {
    cmd.build();
    let name = cmd.get_name().to_string();
    let mut nodes = Vec::new();
    walk(&cmd, name.clone(), &mut nodes);
    match shell {
        Shell::Bash => bash(&name, &nodes),
        Shell::Zsh => format!(
            "#compdef {name}\nautoload -U +X bashcompinit && bashcompinit\n{}",
            bash(&name, &nodes)
        ),
        Shell::Fish => fish(&name, &nodes),
    }
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

fn bash(name: &str, nodes: &[Node]) -> String {
    let func = format!("_{}", name.replace('-', "_"));
    let paths: Vec<String> = nodes.iter().skip(1).map(|n| quote(&n.path)).collect();
    let mut s = format!(
        "# bash completion for {name}: source it, or put it in /etc/bash_completion.d/\n\
         {func}() {{\n    local cur prev path i w opts\n    cur=\"${{COMP_WORDS[COMP_CWORD]}}\"\n    \
         prev=\"${{COMP_WORDS[COMP_CWORD-1]}}\"\n    path={name}\n    \
         for ((i=1; i<COMP_CWORD; i++)); do\n        w=\"${{COMP_WORDS[i]}}\"\n        \
         case \"$path $w\" in\n            {})\n                path=\"$path $w\" ;;\n        \
         esac\n    done\n    case \"$prev\" in\n",
        paths.join("|")
    );
    let mut seen = std::collections::BTreeSet::new();
    for n in nodes {
        for (long, _, takes, values) in &n.flags {
            if *takes && !values.is_empty() && seen.insert(long.clone()) {
                s.push_str(&format!(
                    "        --{long})\n            COMPREPLY=( $(compgen -W {} -- \"$cur\") )\n            return ;;\n",
                    quote(&values.join(" "))
                ));
            }
        }
    }
    s.push_str("    esac\n    case \"$path\" in\n");
    for n in nodes {
        let words: Vec<String> = n
            .subcommands
            .iter()
            .map(|(c, _)| c.clone())
            .chain(n.values.iter().cloned())
            .chain(n.flags.iter().map(|(l, ..)| format!("--{l}")))
            .collect();
        s.push_str(&format!(
            "        {}) opts={} ;;\n",
            quote(&n.path),
            quote(&words.join(" "))
        ));
    }
    s.push_str(&format!(
        "        *) opts='' ;;\n    esac\n    COMPREPLY=( $(compgen -W \"$opts\" -- \"$cur\") )\n}}\n\
         complete -F {func} {name}\n"
    ));
    s
}

fn fish(name: &str, nodes: &[Node]) -> String {
    let func = format!("__{}_path", name.replace('-', "_"));
    let cases: Vec<String> = nodes.iter().skip(1).map(|n| quote(&n.path)).collect();
    let mut s = format!(
        "# fish completion for {name}: put it in ~/.config/fish/completions/{name}.fish\n\
         function {func}\n    set -l path {name}\n    for w in (commandline -opc)[2..-1]\n        \
         switch \"$path $w\"\n            case {}\n                set path \"$path $w\"\n        \
         end\n    end\n    echo $path\nend\ncomplete -c {name} -f\n",
        cases.join(" ")
    );
    for n in nodes {
        let cond = quote(&format!("test ({func}) = \"{}\"", n.path));
        for (sub, about) in &n.subcommands {
            s.push_str(&format!(
                "complete -c {name} -n {cond} -a {} -d {}\n",
                quote(sub),
                quote(about)
            ));
        }
        for v in &n.values {
            s.push_str(&format!("complete -c {name} -n {cond} -a {}\n", quote(v)));
        }
        for (long, help, takes, values) in &n.flags {
            let mut line = format!("complete -c {name} -n {cond} -l {long}");
            if *takes {
                if values.is_empty() {
                    line.push_str(" -r");
                } else {
                    line.push_str(&format!(" -x -a {}", quote(&values.join(" "))));
                }
            }
            line.push_str(&format!(" -d {}\n", quote(help)));
            s.push_str(&line);
        }
    }
    s
}
