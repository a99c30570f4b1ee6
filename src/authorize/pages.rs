//! The pages the loopback listener shows in the browser. They are constants: nothing a request
//! carries is ever echoed into them, so a crafted redirect cannot inject markup.

/// The frame shared by every page.
macro_rules! page {
    ($title:literal, $text:literal) => {
        concat!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
            "<title>mailtoken: ",
            $title,
            "</title><style>body{font-family:sans-serif;max-width:36em;margin:4em auto;",
            "line-height:1.5}</style></head>\n<body><h1>",
            $title,
            "</h1><p>",
            $text,
            "</p></body></html>\n"
        )
    };
}

pub(crate) const SUCCESS: &str = page!(
    "Signed in",
    "mailtoken is signed in with this authorization. You can close this tab."
);

pub(crate) const DENIED: &str = page!(
    "Sign-in refused",
    "The provider refused this sign-in. The terminal says what to do next (for a sign-in from \
     a notification, <code>mailtoken --status</code> does); you can close this tab."
);

pub(crate) const FAILED: &str = page!(
    "Sign-in failed",
    "The provider reported an error. The terminal shows the details (for a sign-in from a \
     notification, <code>mailtoken --status</code> does); you can close this tab."
);

pub(crate) const WRONG_STATE: &str = page!(
    "Not this sign-in",
    "This answer does not belong to the sign-in mailtoken is waiting for (its state parameter \
     does not match), so it was ignored. Use the URL printed in the terminal."
);

pub(crate) const BAD_REQUEST: &str = page!(
    "Bad request",
    "mailtoken is waiting for the provider to send the browser back here with an authorization \
     code; this request carries none."
);

pub(crate) const NOT_FOUND: &str = page!(
    "Not found",
    "mailtoken only answers the redirect of the sign-in it is waiting for."
);

pub(crate) const START: &str = page!(
    "Signing in",
    "Your browser is being sent to the provider's sign-in page."
);

pub(crate) const START_USED: &str = page!(
    "Already opened",
    "This sign-in was already opened. If it was not opened by you, another program on this \
     machine may be trying to take over your sign-in: stop mailtoken in the terminal and start \
     again."
);
