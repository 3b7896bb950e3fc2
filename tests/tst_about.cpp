// What the app says about itself: `distillery --version`, `distillery-cli
// --version` and Help ▸ About name the app, LibTorch, Qt and SQLite versions,
// and the window icon is drawn from the embedded SVG. The expected versions
// come from elsewhere: CMake's project version, Python's torch and sqlite3
// modules (python3-torch; the same Debian build of LibTorch and libsqlite3),
// and this test's own qVersion().
#include "widgets/about_text.h"
#include "widgets/app_icon.h"

#include <QImage>
#include <QProcess>
#include <QRegularExpression>
#include <QtTest>

class TestAbout : public QObject {
  Q_OBJECT

private:
  QString torchVersion_, sqliteVersion_;

  // Each version as "Name x.y.z", the way the lines print it.
  QStringList expectedLines() const {
    return {QStringLiteral("Distillery " DISTILLERY_PROJECT_VERSION), QStringLiteral("LibTorch ") + torchVersion_,
            QStringLiteral("Qt ") + QString::fromLatin1(qVersion()), QStringLiteral("SQLite ") + sqliteVersion_};
  }

  // Runs a program with no display at all: --version must not need one.
  static QString versionOutput(const QString& program, int* code,
                               const QStringList& args = {QStringLiteral("--version")}) {
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    for (const char* name : {"DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"}) env.remove(QString::fromLatin1(name));
    p.setProcessEnvironment(env);
    p.start(program, args);
    if (!p.waitForFinished(60000)) {
      *code = -1;
      return {};
    }
    *code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2;
    return QString::fromUtf8(p.readAllStandardOutput()) + QString::fromUtf8(p.readAllStandardError());
  }

private Q_SLOTS:
  void initTestCase() {
    QProcess py;
    py.start(QStringLiteral("/usr/bin/python3"),
             {QStringLiteral("-c"), QStringLiteral("import sqlite3, torch; print(torch.__version__); print(sqlite3.sqlite_version)")});
    if (!py.waitForFinished(120000) || py.exitCode() != 0)
      QSKIP("/usr/bin/python3 cannot import torch (python3-torch): no independent LibTorch version to compare with");
    const QStringList lines = QString::fromUtf8(py.readAllStandardOutput()).split(u'\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 2);
    // Debian's torch says "1.13.0a0"; LibTorch's header says "1.13.0".
    torchVersion_ = lines[0].section(QRegularExpression(QStringLiteral("[a-z+]")), 0, 0);
    sqliteVersion_ = lines[1];
    QVERIFY(!torchVersion_.isEmpty());
  }

  void cliVersionNamesFourVersions() {
    int code = 0;
    const QString out = versionOutput(QStringLiteral(DISTILLERY_CLI), &code);
    QCOMPARE(code, 0);
    for (const QString& line : expectedLines()) QVERIFY2(out.contains(line + u'\n'), qPrintable(line + " not in:\n" + out));
  }

  void guiVersionNamesFourVersionsWithoutADisplay() {
    int code = 0;
    const QString out = versionOutput(QStringLiteral(DISTILLERY_GUI), &code);
    QVERIFY2(code == 0, qPrintable(out));
    for (const QString& line : expectedLines()) QVERIFY2(out.contains(line + u'\n'), qPrintable(line + " not in:\n" + out));
  }

  // --help and a bad option need no display either (walk item i): Qt aborted
  // ("could not connect to display") when the QApplication came first.
  void guiHelpWorksWithoutADisplay() {
    int code = 0;
    QString out = versionOutput(QStringLiteral(DISTILLERY_GUI), &code, {QStringLiteral("--help")});
    QVERIFY2(code == 0 && out.contains(QStringLiteral("--run-default")) && out.contains(QStringLiteral("--db")),
             qPrintable(out));
    out = versionOutput(QStringLiteral(DISTILLERY_GUI), &code, {QStringLiteral("--no-such-option")});
    QVERIFY2(code == 1 && out.contains(QStringLiteral("no-such-option")), qPrintable(out));
  }

  void aboutTextNamesFourVersionsAndTheStore() {
    const QString text = distillery::gui::aboutText(QStringLiteral("/tmp/a <b>.sqlite"));
    for (const QString& line : expectedLines()) QVERIFY2(text.contains(line), qPrintable(line + " not in: " + text));
    QVERIFY2(text.contains(QStringLiteral("/tmp/a &lt;b&gt;.sqlite")), qPrintable(text)); // escaped
  }

  void windowIconIsTheEmbeddedSvg() {
    const QIcon icon = distillery::gui::appIcon();
    QVERIFY(!icon.isNull());
    const QImage image = icon.pixmap(64, 64).toImage().convertToFormat(QImage::Format_ARGB32);
    QCOMPARE(image.size(), QSize(64, 64));
    // resources/distillery.svg: a rounded square, transparent in the corners, a
    // blue gradient (#2d6f93 at the top) under a white glass outline.
    QCOMPARE(qAlpha(image.pixel(0, 0)), 0);
    const QColor top = image.pixelColor(32, 6);
    QCOMPARE(top.alpha(), 255);
    QVERIFY2(top.blue() > top.red() + 60, qPrintable(top.name()));
  }
};

QTEST_MAIN(TestAbout)
#include "tst_about.moc"
