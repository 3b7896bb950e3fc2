#pragma once
// The Serve tab (issue 17): the teacher server of Run ▸ Serve Teacher… and its
// live traffic. Where it listens (copyable), what it serves (output mode and
// defenses, price), a table per API key (serve_traffic_model.h) and a chart
// of queries a second per key, both refreshed every second from the request
// log. The server runs on a worker thread (serve_worker.h); Stop, closing the
// window or destroying the panel stops it and waits for it.
#include "widgets/serve_worker.h"

#include <QWidget>

#include <map>
#include <memory>

class QChart;
class QLabel;
class QLineEdit;
class QLineSeries;
class QPushButton;
class QTableView;
class QThread;
class QTimer;
class QValueAxis;

namespace distillery::gui {

class ServeTrafficModel;

class ServePanel : public QWidget {
  Q_OBJECT
public:
  explicit ServePanel(QWidget* parent = nullptr);
  ~ServePanel() override; // stops the server and waits for it

  // Starts a server; false (and nothing happens) while one is running.
  bool start(const ServeOptions& options);
  bool isServing() const { return thread_ != nullptr; }
  // Asks the server to stop; finished() follows once it has.
  void stop();
  // Stops it and waits (closing the app).
  void stopAndWait();

  QString url() const { return url_; }
  QString errorText() const;
  ServeTrafficModel* trafficModel() const { return model_; }
  // Reads the log now (the timer does it every second).
  void pollNow();

Q_SIGNALS:
  void listening(const QString& url);
  void failed(const QString& message);
  void finished();

private:
  void onListening(const distillery::gui::ServeStarted& started);
  void onFailed(const QString& message);
  void onFinished();
  void updateChart();
  void setError(const QString& message);

  ServeTrafficModel* model_ = nullptr;
  QThread* thread_ = nullptr;
  std::unique_ptr<ServeWorker> worker_;
  QTimer* timer_ = nullptr;
  QString url_;

  QLabel* state_ = nullptr;
  QLineEdit* urlEdit_ = nullptr;
  QPushButton* copyButton_ = nullptr;
  QPushButton* stopButton_ = nullptr;
  QLabel* served_ = nullptr;
  QLabel* error_ = nullptr;
  QTableView* table_ = nullptr;
  QChart* chart_ = nullptr;
  QValueAxis* xAxis_ = nullptr;
  QValueAxis* yAxis_ = nullptr;
  std::map<QString, QLineSeries*> series_;
};

// The output mode and the defenses in front of it, in a line: "topk (k=3) after gaussian_noise (sigma=0.05)".
QString describeServeOutput(const nlohmann::json& output);
// /v1/info's teacher object in a few words: "run #3", or the TorchScript file's name.
QString describeServedTeacher(const QString& teacherJson);

} // namespace distillery::gui
