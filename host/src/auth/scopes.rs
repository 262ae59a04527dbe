//! Scope names and how they grant each other. A scope grants itself and
//! every scope below it: `backend` grants `backend.routes`, as in PHP Fusio.
//! The system scopes guard the system API and cannot be taken by a project.

/// The system scopes with their descriptions: the three roots and one
/// sub-scope per resource.
pub const SYSTEM: &[(&str, &str)] = &[
    ("backend", "Everything in the backend API"),
    ("backend.routes", "Routes and their versions and methods"),
    ("backend.action", "Actions and their components"),
    ("backend.schema", "JSON Schemas"),
    ("backend.connection", "Connections to external services"),
    ("backend.config", "Settings"),
    ("backend.audit", "The audit log"),
    ("backend.user", "User accounts"),
    ("backend.app", "Apps and their tokens"),
    ("backend.scope", "Scopes"),
    ("backend.role", "Roles"),
    ("backend.token", "Issued tokens"),
    ("backend.deploy", "Deploying a project"),
    ("backend.log", "What actions logged"),
    ("backend.rate", "Request rates and whom they apply to"),
    ("backend.statistic", "Statistics and the dashboard"),
    ("consumer", "Everything in the developer portal's API"),
    ("consumer.account", "The caller's own account"),
    ("consumer.app", "The caller's own apps"),
    ("consumer.grant", "The apps the caller has authorized"),
    (
        "authorization",
        "Token introspection and the caller's identity",
    ),
];

/// The roots of the system scopes: no project scope may equal one or lie
/// below one.
pub const SYSTEM_ROOTS: &[&str] = &["backend", "consumer", "authorization"];

/// Whether holding `held` grants `required`: the same scope, or a parent of
/// it (`backend` grants `backend.routes`).
pub fn grants(held: &str, required: &str) -> bool {
    required == held
        || required
            .strip_prefix(held)
            .is_some_and(|rest| rest.starts_with('.'))
}

/// Whether any of `held` grants `required`.
pub fn any_grants<'a>(held: impl IntoIterator<Item = &'a str>, required: &str) -> bool {
    held.into_iter().any(|scope| grants(scope, required))
}

/// What holding both `a` and `b` allows: for each pair where one grants
/// the other, the narrower one (an app allowed `backend` used by a user
/// who holds `backend.user` gets `backend.user`), without entries another
/// entry already grants.
pub fn intersect<'a>(a: &'a [String], b: &'a [String]) -> Vec<&'a str> {
    let mut meet: Vec<&str> = Vec::new();
    for x in a {
        for y in b {
            let narrower = if grants(x, y) {
                y
            } else if grants(y, x) {
                x
            } else {
                continue;
            };
            if !meet.contains(&narrower.as_str()) {
                meet.push(narrower);
            }
        }
    }
    let broadest: Vec<&str> = meet
        .iter()
        .copied()
        .filter(|scope| {
            !meet
                .iter()
                .any(|other| other != scope && grants(other, scope))
        })
        .collect();
    broadest
}

/// Whether `name` is a system scope or lies below one.
pub fn is_system(name: &str) -> bool {
    SYSTEM_ROOTS.iter().any(|root| grants(root, name))
}

/// Whether `name` is a well-formed scope name: RFC 6749's scope-token
/// characters, without the space that separates scopes.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intersects_along_the_tree() {
        let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let app = owned(&["backend", "consumer", "echo.read"]);
        let user = owned(&[
            "backend.user",
            "backend.token",
            "consumer",
            "consumer.app",
            "other",
        ]);
        assert_eq!(
            intersect(&app, &user),
            ["backend.user", "backend.token", "consumer"]
        );
        assert!(intersect(&app, &owned(&["echo"])).contains(&"echo.read"));
        assert!(intersect(&app, &owned(&["nothing"])).is_empty());
    }

    #[test]
    fn a_scope_grants_itself_and_what_lies_below() {
        assert!(grants("backend", "backend"));
        assert!(grants("backend", "backend.routes"));
        assert!(!grants("backend.routes", "backend"));
        assert!(!grants("backend", "backendx"));
        assert!(is_system("consumer.app"));
        assert!(!is_system("todo"));
        assert!(is_valid_name("todo.read"));
        assert!(!is_valid_name("two words"));
        assert!(!is_valid_name("quote\""));
    }
}
