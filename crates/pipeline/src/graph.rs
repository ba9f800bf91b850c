//! The `needs` graph: cycles and run plans.

use std::collections::BTreeSet;

use crate::project::Project;
use crate::suggest;

/// The dependency cycles of a graph given as adjacency lists (`edges[i]` = what `i` needs,
/// with any payload). One cycle per strongly connected component, as the list of nodes from
/// its first node (lowest index) along the cycle, without repeating the first at the end.
pub fn cycles<T>(edges: &[Vec<(usize, T)>]) -> Vec<Vec<usize>> {
    let n = edges.len();
    let components = tarjan(n, |v| edges[v].iter().map(|(w, _)| *w).collect());
    let mut out = Vec::new();
    for comp in components {
        let start = *comp.iter().min().unwrap_or(&0);
        let in_comp: BTreeSet<usize> = comp.iter().copied().collect();
        let self_loop = edges[start].iter().any(|(w, _)| *w == start);
        if comp.len() == 1 && !self_loop {
            continue;
        }
        if self_loop {
            out.push(vec![start]);
            continue;
        }
        // Breadth-first from `start` back to `start` inside the component: a shortest cycle.
        let mut prev = vec![usize::MAX; n];
        let mut queue = std::collections::VecDeque::from([start]);
        let mut found = None;
        while let Some(v) = queue.pop_front() {
            for (w, _) in &edges[v] {
                if *w == start {
                    found = Some(v);
                    break;
                }
                if in_comp.contains(w) && prev[*w] == usize::MAX && *w != start {
                    prev[*w] = v;
                    queue.push_back(*w);
                }
            }
            if found.is_some() {
                break;
            }
        }
        let Some(mut v) = found else { continue };
        let mut path = vec![v];
        while v != start {
            v = prev[v];
            path.push(v);
        }
        path.reverse();
        out.push(path);
    }
    out.sort();
    out
}

/// Tarjan's strongly connected components, iteratively.
fn tarjan(n: usize, succ: impl Fn(usize) -> Vec<usize>) -> Vec<Vec<usize>> {
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut next = 0;
    let mut out = Vec::new();
    for root in 0..n {
        if index[root] != usize::MAX {
            continue;
        }
        let mut work: Vec<(usize, Vec<usize>, usize)> = vec![(root, succ(root), 0)];
        index[root] = next;
        low[root] = next;
        next += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some((v, ws, i)) = work.last_mut() {
            let v = *v;
            if *i < ws.len() {
                let w = ws[*i];
                *i += 1;
                if index[w] == usize::MAX {
                    index[w] = next;
                    low[w] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    work.push((w, succ(w), 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
            } else {
                work.pop();
                if let Some((parent, _, _)) = work.last() {
                    low[*parent] = low[*parent].min(low[v]);
                }
                if low[v] == index[v] {
                    let mut comp = Vec::new();
                    while let Some(w) = stack.pop() {
                        on_stack[w] = false;
                        comp.push(w);
                        if w == v {
                            break;
                        }
                    }
                    out.push(comp);
                }
            }
        }
    }
    out
}

/// Why a plan cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// A requested action does not exist.
    #[error("Action '{name}' not found in project.yaml{}", hint.as_ref().map(|h| format!(" (did you mean `{h}`?)")).unwrap_or_default())]
    UnknownAction {
        /// The name asked for.
        name: String,
        /// The closest existing name.
        hint: Option<String>,
    },
    /// No action was requested.
    #[error("At least one action must be supplied")]
    NoActions,
}

/// The requested actions and everything they need, transitively, in an order where every
/// action comes after its needs (file order among independent actions).
pub fn plan(project: &Project, requested: &[String]) -> Result<Vec<String>, PlanError> {
    if requested.is_empty() {
        return Err(PlanError::NoActions);
    }
    let mut wanted = BTreeSet::new();
    let mut todo: Vec<&str> = Vec::new();
    for name in requested {
        if project.action(name).is_none() {
            return Err(PlanError::UnknownAction {
                name: name.clone(),
                hint: suggest::closest(name, project.action_names()).map(str::to_string),
            });
        }
        todo.push(name);
    }
    while let Some(name) = todo.pop() {
        if !wanted.insert(name.to_string()) {
            continue;
        }
        if let Some(action) = project.action(name) {
            // A need that is not an action (an ignored user-defined `run_all`) adds nothing.
            todo.extend(
                action
                    .needs
                    .iter()
                    .map(String::as_str)
                    .filter(|n| project.action(n).is_some()),
            );
        }
    }
    // Kahn's algorithm, always taking the earliest ready action in file order.
    let mut order = Vec::new();
    let mut done = BTreeSet::new();
    while order.len() < wanted.len() {
        let ready = project.actions.iter().find(|a| {
            wanted.contains(&a.name)
                && !done.contains(&a.name)
                && a.needs
                    .iter()
                    .all(|n| done.contains(n) || !wanted.contains(n))
        });
        match ready {
            Some(a) => {
                done.insert(a.name.clone());
                order.push(a.name.clone());
            }
            // Only reachable with a cycle, which validation rejects.
            None => break,
        }
    }
    Ok(order)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(adj: &[&[usize]]) -> Vec<Vec<(usize, ())>> {
        adj.iter()
            .map(|a| a.iter().map(|&w| (w, ())).collect())
            .collect()
    }

    #[test]
    fn finds_cycles() {
        assert!(cycles(&g(&[&[1], &[2], &[]])).is_empty());
        assert_eq!(cycles(&g(&[&[0]])), vec![vec![0]]);
        assert_eq!(cycles(&g(&[&[1], &[0]])), vec![vec![0, 1]]);
        assert_eq!(cycles(&g(&[&[], &[2], &[3], &[1]])), vec![vec![1, 2, 3]]);
        assert_eq!(
            cycles(&g(&[&[1], &[0], &[3], &[2]])),
            vec![vec![0, 1], vec![2, 3]]
        );
    }

    #[test]
    fn deep_chains_do_not_overflow() {
        let n = 100_000;
        let edges: Vec<Vec<(usize, ())>> = (0..n)
            .map(|i| {
                if i + 1 < n {
                    vec![(i + 1, ())]
                } else {
                    vec![(0, ())]
                }
            })
            .collect();
        let found = cycles(&edges);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].len(), n);
    }
}
