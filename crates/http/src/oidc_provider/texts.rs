//! What the hosted pages say, in English and Swedish, chosen by the
//! browser's `Accept-Language`.

use actix_web::HttpRequest;
use actix_web::http::header;

/// A language the pages are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lang {
    /// English, the default.
    En,
    /// Swedish.
    Sv,
}

/// Every sentence of the pages.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Text<'a> {
    LogIn,
    ToContinueTo(&'a str),
    Username,
    Password,
    TwoStep,
    TwoStepLead,
    Code,
    Verify,
    CannotLogIn,
    GoBack,
    LogOutQuestion,
    LoggedInTo(&'a str),
    LogOut,
    LoggedOut,
    NoLongerLoggedIn(&'a str),
    UnknownClient,
    UnregisteredRedirect,
    ExpiredForm,
    WrongPassword,
    WrongCode,
    Locked(&'a str),
    Throttled(&'a str),
    Disabled,
    EmailNotVerified,
    TookTooLong,
    Busy,
    Failed,
    Or,
    LogInWithBankId,
    PersonalNumber,
    PersonalNumberHint,
    ContinueWith(&'a str),
    BankIdTitle,
    OpenBankIdHere,
    ScanWithBankId,
    BankIdNoScript,
    Continue,
    TryAgain,
    BankIdStartFailed,
    BankIdInProgress,
    NoUserForBankId,
    SecondFactorWithPassword,
    UpstreamFailed,
    BadPersonalNumber,
    SignInWithPasskey,
    PasskeyFailed,
    YourPasskeys,
    SignedInAs(&'a str),
    NoPasskeys,
    AddPasskey,
    PasskeyName,
    DefaultPasskeyName,
    Rename,
    RenameOrRemove,
    NewName,
    Remove,
    Added(&'a str),
    LastUsed(&'a str),
    NeverUsed,
    AddNeedsRecentLogin,
    LogInAgain,
    PasskeyNeedsScript,
    Renamed,
    Removed,
    LastWayIn,
    NameTaken,
    BadPasskeyName,
}

impl Lang {
    /// The first of English and Swedish the browser names (`sv`, `sv-SE`,
    /// `en-GB`; ranges with `q=0` are refused ones); English when neither.
    pub(crate) fn of(req: &HttpRequest) -> Self {
        let accepted = req
            .headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        let mut ranges: Vec<(f32, &str)> = accepted
            .split(',')
            .filter_map(|range| {
                let mut parts = range.split(';');
                let tag = parts.next()?.trim();
                let quality = parts
                    .find_map(|part| part.trim().strip_prefix("q="))
                    .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())?;
                (quality > 0.0).then_some((quality, tag))
            })
            .collect();
        // Highest quality first; the header's order among equals.
        ranges.sort_by(|a, b| b.0.total_cmp(&a.0));
        ranges
            .iter()
            .find_map(|(_, tag)| {
                let primary = tag.split('-').next().unwrap_or_default().to_ascii_lowercase();
                match primary.as_str() {
                    "sv" => Some(Self::Sv),
                    "en" => Some(Self::En),
                    _ => None,
                }
            })
            .unwrap_or(Self::En)
    }

    /// The `lang` attribute of the pages.
    pub(crate) fn code(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Sv => "sv",
        }
    }

    /// `text` in this language.
    pub(crate) fn say(self, text: Text<'_>) -> String {
        use Text::*;
        let (en, sv): (String, String) = match text {
            LogIn => ("Log in".into(), "Logga in".into()),
            ToContinueTo(client) => (format!("to continue to {client}"), format!("för att fortsätta till {client}")),
            Username => ("Username or e-mail".into(), "Användarnamn eller e-post".into()),
            Password => ("Password".into(), "Lösenord".into()),
            TwoStep => ("Two-step verification".into(), "Tvåstegsverifiering".into()),
            TwoStepLead => (
                "Enter the code from your authenticator app, or one of your recovery codes.".into(),
                "Ange koden från din autentiseringsapp eller en av dina återställningskoder.".into(),
            ),
            Code => ("Code".into(), "Kod".into()),
            Verify => ("Verify".into(), "Verifiera".into()),
            CannotLogIn => ("Cannot log in".into(), "Det går inte att logga in".into()),
            GoBack => (
                "Go back to the application and try again. If this keeps happening, tell the application's administrators."
                    .into(),
                "Gå tillbaka till tjänsten och försök igen. Om det händer igen, kontakta tjänstens administratörer."
                    .into(),
            ),
            LogOutQuestion => ("Log out?".into(), "Logga ut?".into()),
            LoggedInTo(site) => (
                format!("You are logged in to {site} in this browser."),
                format!("Du är inloggad i {site} i den här webbläsaren."),
            ),
            LogOut => ("Log out".into(), "Logga ut".into()),
            LoggedOut => ("You are logged out".into(), "Du är utloggad".into()),
            NoLongerLoggedIn(site) => (
                format!("You are no longer logged in to {site} in this browser. You can close this page."),
                format!("Du är inte längre inloggad i {site} i den här webbläsaren. Du kan stänga sidan."),
            ),
            UnknownClient => (
                "The application that sent you here is not known to this login service.".into(),
                "Tjänsten som skickade dig hit är okänd för den här inloggningstjänsten.".into(),
            ),
            UnregisteredRedirect => (
                "The application asked to send you to an address it has not registered.".into(),
                "Tjänsten bad om att skicka dig till en adress som den inte har registrerat.".into(),
            ),
            ExpiredForm => (
                "This form has expired or was not sent from this page. Start again from the application.".into(),
                "Formuläret har gått ut eller skickades inte från den här sidan. Börja om från tjänsten.".into(),
            ),
            WrongPassword => ("Wrong username or password.".into(), "Fel användarnamn eller lösenord.".into()),
            WrongCode => (
                "That code is not right. Try the current one.".into(),
                "Koden stämmer inte. Försök med den aktuella koden.".into(),
            ),
            Locked(retry) => (
                format!("Too many failed attempts. Try again after {retry}."),
                format!("För många misslyckade försök. Försök igen efter {retry}."),
            ),
            Throttled(retry) => (
                format!("Too many attempts from your network. Try again after {retry}."),
                format!("För många försök från ditt nätverk. Försök igen efter {retry}."),
            ),
            Disabled => ("This account cannot log in.".into(), "Det här kontot kan inte logga in.".into()),
            EmailNotVerified => (
                "Confirm your e-mail address first: follow the link in the e-mail you were sent.".into(),
                "Bekräfta din e-postadress först: följ länken i e-postmeddelandet du fick.".into(),
            ),
            TookTooLong => (
                "This login took too long. Enter your password again.".into(),
                "Inloggningen tog för lång tid. Ange ditt lösenord igen.".into(),
            ),
            Busy => (
                "The login service is busy. Try again in a moment.".into(),
                "Inloggningstjänsten är upptagen. Försök igen om en stund.".into(),
            ),
            Failed => ("The login could not be completed.".into(), "Inloggningen kunde inte slutföras.".into()),
            Or => ("or".into(), "eller".into()),
            LogInWithBankId => ("Log in with BankID".into(), "Logga in med BankID".into()),
            PersonalNumber => ("Personal identity number".into(), "Personnummer".into()),
            PersonalNumberHint => ("YYYYMMDD-XXXX".into(), "ÅÅÅÅMMDD-XXXX".into()),
            ContinueWith(name) => (format!("Continue with {name}"), format!("Fortsätt med {name}")),
            BankIdTitle => ("Log in with BankID".into(), "Logga in med BankID".into()),
            OpenBankIdHere => (
                "Open BankID on this device".into(),
                "Öppna BankID på den här enheten".into(),
            ),
            ScanWithBankId => (
                "Open the BankID app on your phone and scan the QR code.".into(),
                "Öppna BankID-appen i mobilen och skanna QR-koden.".into(),
            ),
            BankIdNoScript => (
                "Without JavaScript the QR code does not renew itself: press Continue after identifying yourself."
                    .into(),
                "Utan JavaScript förnyas inte QR-koden: tryck på Fortsätt när du har legitimerat dig.".into(),
            ),
            Continue => ("Continue".into(), "Fortsätt".into()),
            TryAgain => ("Try again".into(), "Försök igen".into()),
            BankIdStartFailed => (
                "BankID could not be started. Try again in a moment.".into(),
                "BankID kunde inte startas. Försök igen om en stund.".into(),
            ),
            BankIdInProgress => (
                "A BankID login for this personal identity number is already in progress. Try again.".into(),
                "En BankID-inloggning för det här personnumret pågår redan. Försök igen.".into(),
            ),
            NoUserForBankId => (
                "No account here has this personal identity number.".into(),
                "Inget konto här har det här personnumret.".into(),
            ),
            SecondFactorWithPassword => (
                "This account also needs its second factor: log in with your password and code.".into(),
                "Det här kontot kräver även en andra faktor: logga in med lösenord och kod.".into(),
            ),
            SignInWithPasskey => ("Sign in with a passkey".into(), "Logga in med nyckel".into()),
            YourPasskeys => ("Your passkeys".into(), "Dina nycklar".into()),
            SignedInAs(name) => (format!("Signed in as {name}."), format!("Inloggad som {name}.")),
            NoPasskeys => (
                "You have no passkeys yet. A passkey logs you in with your device's screen lock, without a password."
                    .into(),
                "Du har inga nycklar än. Med en nyckel loggar du in med enhetens skärmlås, utan lösenord.".into(),
            ),
            AddPasskey => ("Add a passkey".into(), "Lägg till en nyckel".into()),
            PasskeyName => ("Name of the new passkey".into(), "Namn på den nya nyckeln".into()),
            DefaultPasskeyName => ("My passkey".into(), "Min nyckel".into()),
            Rename => ("Rename".into(), "Byt namn".into()),
            RenameOrRemove => ("Rename or remove".into(), "Byt namn eller ta bort".into()),
            NewName => ("New name".into(), "Nytt namn".into()),
            Remove => ("Remove".into(), "Ta bort".into()),
            Added(day) => (format!("Added {day}"), format!("Tillagd {day}")),
            LastUsed(day) => (format!("last used {day}"), format!("senast använd {day}")),
            NeverUsed => ("not used yet".into(), "inte använd än".into()),
            AddNeedsRecentLogin => (
                "Adding a passkey needs a login within the last five minutes.".into(),
                "För att lägga till en nyckel måste du ha loggat in under de senaste fem minuterna.".into(),
            ),
            LogInAgain => ("Log in again".into(), "Logga in igen".into()),
            PasskeyNeedsScript => (
                "Adding a passkey needs JavaScript.".into(),
                "För att lägga till en nyckel behövs JavaScript.".into(),
            ),
            Renamed => ("The passkey was renamed.".into(), "Nyckeln har fått nytt namn.".into()),
            Removed => ("The passkey was removed.".into(), "Nyckeln har tagits bort.".into()),
            LastWayIn => (
                "This is your only way to log in: add another passkey or set a password first.".into(),
                "Det här är ditt enda sätt att logga in: lägg till en nyckel till eller skaffa ett lösenord först."
                    .into(),
            ),
            NameTaken => (
                "You have a passkey by that name, or this passkey is added already.".into(),
                "Du har redan en nyckel med det namnet, eller så är nyckeln redan tillagd.".into(),
            ),
            BadPasskeyName => (
                "A name is 1 to 64 characters.".into(),
                "Ett namn är 1 till 64 tecken.".into(),
            ),
            PasskeyFailed => (
                "The passkey was not accepted. Try again, or log in another way.".into(),
                "Nyckeln godtogs inte. Försök igen eller logga in på ett annat sätt.".into(),
            ),
            BadPersonalNumber => (
                "That is not a Swedish personal identity number (YYYYMMDD-XXXX).".into(),
                "Det är inte ett svenskt personnummer (ÅÅÅÅMMDD-XXXX).".into(),
            ),
            UpstreamFailed => (
                "The login at the other service was not completed. Try again, or log in another way.".into(),
                "Inloggningen hos den andra tjänsten slutfördes inte. Försök igen eller logga in på ett annat sätt."
                    .into(),
            ),
        };
        match self {
            Self::En => en,
            Self::Sv => sv,
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn the_browsers_first_choice_of_english_and_swedish_wins() {
        let of = |header: &str| {
            Lang::of(
                &TestRequest::default()
                    .insert_header(("accept-language", header))
                    .to_http_request(),
            )
        };
        assert_eq!(of("sv-SE,sv;q=0.9,en;q=0.8"), Lang::Sv);
        assert_eq!(of("en-GB,sv;q=0.5"), Lang::En);
        assert_eq!(of("de-DE,sv;q=0.7,en;q=0.6"), Lang::Sv);
        assert_eq!(of("en;q=0.3,sv;q=0.8"), Lang::Sv);
        assert_eq!(of("sv;q=0,en"), Lang::En, "a refused language");
        assert_eq!(of("fr"), Lang::En);
        assert_eq!(of(""), Lang::En);
        assert_eq!(Lang::of(&TestRequest::default().to_http_request()), Lang::En);
    }
}
